package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
)

// A lab network whose members run on several hosts of a cluster is a
// bridge on each of those hosts, named as on one host, the bridges joined
// by a VXLAN device each (a span): a port of the host's bridge, sending
// from the host's address to every other host that has a span of the
// network (head-end replication: a forwarding entry per host, so that
// broadcast, ARP and DHCP reach every member), learning the members'
// addresses from what arrives. The spans of every lab on a host share its
// UDP port VXLANPort: each network has a VNI of its own (naming.SpanVNI).

// Span is what joins a network's bridge on this host to the others.
type Span struct {
	Lab, Network string
	Local        netip.Addr   // this host's address on the network between hosts
	Peers        []netip.Addr // the other hosts'
	// InPods: the hosts are pods with their own agents (naming.PodSpanVNI).
	InPods bool
}

// VNI is the span's VXLAN network identifier.
func (s Span) VNI() int {
	if s.InPods {
		return naming.PodSpanVNI(s.Lab, s.Network)
	}
	return naming.SpanVNI(s.Lab, s.Network)
}

// EnsureSpan makes the network's span on this host a port of bridge, over
// the interface that has s.Local, with a forwarding entry to each of
// s.Peers and no other; a span of that name that differs is made again.
// mtu is the span's: the underlying interface's less TunnelOverhead, which
// the bridge's other ports must not exceed.
func EnsureSpan(h *netlink.Handle, bridge string, s Span) (changed bool, mtu int, err error) {
	br, err := LinkByName(h, bridge)
	if err != nil || br == nil {
		return false, 0, fmt.Errorf("span of network %s: bridge %s: %v", s.Network, bridge, orMissing(err))
	}
	under, err := linkWithAddr(h, s.Local)
	if err != nil {
		return false, 0, fmt.Errorf("span of network %s: %w", s.Network, err)
	}
	name, vni := naming.Span(s.Lab, s.Network), s.VNI()
	mtu = under.Attrs().MTU - TunnelOverhead(s.Local)
	have, err := LinkByName(h, name)
	if err != nil {
		return false, 0, err
	}
	v, ok := have.(*netlink.Vxlan)
	if !ok || v.VxlanId != vni || v.Port != VXLANPort || !v.SrcAddr.Equal(s.Local.AsSlice()) || v.VtepDevIndex != under.Attrs().Index || v.MasterIndex != br.Attrs().Index {
		if have != nil {
			if err := h.LinkDel(have); err != nil && !isNotFound(err) {
				return false, 0, fmt.Errorf("remove span %s of network %s to make it again: %w", name, s.Network, err)
			}
		}
		v = &netlink.Vxlan{
			LinkAttrs:    netlink.LinkAttrs{Name: name, MTU: mtu, MasterIndex: br.Attrs().Index},
			VxlanId:      vni,
			VtepDevIndex: under.Attrs().Index,
			SrcAddr:      s.Local.AsSlice(),
			Port:         VXLANPort,
			Learning:     true,
		}
		if err := h.LinkAdd(v); err != nil {
			return false, 0, fmt.Errorf("create span %s of network %s (VXLAN %d from %s over %s; another lab's network with the same VNI?): %w", name, s.Network, vni, s.Local, under.Attrs().Name, err)
		}
		changed = true
		if err := h.LinkSetAlias(v, naming.SpanAlias(s.Lab, s.Network)); err != nil {
			return true, mtu, fmt.Errorf("mark span %s as netlab's: %w", name, err)
		}
		if err := h.LinkSetUp(v); err != nil {
			return true, mtu, fmt.Errorf("bring span %s up: %w", name, err)
		}
	} else {
		mtu = v.MTU
	}
	set, err := ensureFloods(h, v, s.Peers)
	return changed || set, mtu, err
}

// zeroMAC is the forwarding entry that floods: every frame with no
// learned destination goes to each host that has one.
var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

// ensureFloods keeps v's flooding entries to exactly peers, and forgets
// the addresses it learned behind any other host: a member that moved
// (a pod made again has a new address) keeps its MAC, and a learned entry
// would send its frames to the host it left, until the member sent
// something this way; without it they flood, to its new address too.
func ensureFloods(h *netlink.Handle, v netlink.Link, peers []netip.Addr) (bool, error) {
	have, err := h.NeighList(v.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		return false, fmt.Errorf("read the forwarding entries of span %s: %w", v.Attrs().Name, err)
	}
	want := map[netip.Addr]bool{}
	for _, p := range peers {
		want[p] = true
	}
	changed := false
	for _, n := range have {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if !bytes.Equal(n.HardwareAddr, zeroMAC) {
			if n.State&(netlink.NUD_PERMANENT|netlink.NUD_NOARP) == 0 && !slices.Contains(peers, ip) {
				if err := h.NeighDel(&n); err != nil && !isNotFound(err) {
					return changed, fmt.Errorf("span %s: forget %s learned behind %s, which is no longer a member's host: %w", v.Attrs().Name, n.HardwareAddr, ip, err)
				}
			}
			continue
		}
		if want[ip] {
			delete(want, ip)
			continue
		}
		if err := h.NeighDel(&n); err != nil && !isNotFound(err) {
			return changed, fmt.Errorf("remove span %s's entry to %s: %w", v.Attrs().Name, ip, err)
		}
		changed = true
	}
	for _, p := range peers {
		if !want[p] {
			continue
		}
		n := &netlink.Neigh{LinkIndex: v.Attrs().Index, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_NOARP | netlink.NUD_PERMANENT, IP: p.AsSlice(), HardwareAddr: zeroMAC}
		if err := h.NeighAppend(n); err != nil {
			return changed, fmt.Errorf("span %s: a forwarding entry to host %s: %w", v.Attrs().Name, p, err)
		}
		changed = true
	}
	return changed, nil
}

// linkWithAddr is the interface that has addr.
func linkWithAddr(h *netlink.Handle, addr netip.Addr) (netlink.Link, error) {
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
			return h.LinkByIndex(a.LinkIndex)
		}
	}
	return nil, fmt.Errorf("no interface of this host has address %s", addr)
}

func orMissing(err error) any {
	if err != nil {
		return err
	}
	return "missing"
}

// BridgeNoARP turns ARP off on bridge (a pod's own, in the node's
// namespace), unless it is off already.
func BridgeNoARP(h *netlink.Handle, bridge string) error {
	br, err := LinkByName(h, bridge)
	if err != nil || br == nil {
		return fmt.Errorf("bridge %s: %v", bridge, orMissing(err))
	}
	if br.Attrs().RawFlags&unix.IFF_NOARP != 0 {
		return nil
	}
	if err := h.LinkSetARPOff(br); err != nil {
		return fmt.Errorf("turn ARP off on bridge %s: %w", bridge, err)
	}
	return nil
}

// bridgeNetfilter are the switches by which br_netfilter, where it is
// loaded, passes a namespace's bridged frames through its IP, IPv6 and
// ARP hooks (each namespace's own; a new namespace has them on).
var bridgeNetfilter = []string{
	"/proc/sys/net/bridge/bridge-nf-call-iptables",
	"/proc/sys/net/bridge/bridge-nf-call-ip6tables",
	"/proc/sys/net/bridge/bridge-nf-call-arptables",
}

// BridgeNetfilterOff keeps this namespace's bridged frames out of its
// netfilter hooks, where br_netfilter would pass them (a pod's own
// bridge shares the node's namespace: its frames would meet the node's
// NAT and firewall, and a connection tracked on the bridge is not NATed
// when it is routed after). A container's /proc/sys is read-only: this
// process's view of it is made writable first (a remount in its own
// mount namespace; the node's stays as it is).
func BridgeNetfilterOff() error {
	remounted := false
	for _, f := range bridgeNetfilter {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) || err == nil && strings.TrimSpace(string(b)) == "0" {
			continue // no br_netfilter, or off already
		}
		err = os.WriteFile(f, []byte("0"), 0o644)
		if errors.Is(err, unix.EROFS) && !remounted {
			if err = unix.Mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("make /proc/sys writable to turn %s off: %w", f, err)
			}
			remounted = true
			err = os.WriteFile(f, []byte("0"), 0o644)
		}
		if err != nil {
			return fmt.Errorf("turn %s off: %w", f, err)
		}
	}
	return nil
}
