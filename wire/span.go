package wire

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

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
	name, vni := naming.Span(s.Lab, s.Network), naming.SpanVNI(s.Lab, s.Network)
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

// ensureFloods keeps v's flooding entries to exactly peers.
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
		if !ok || !bytes.Equal(n.HardwareAddr, zeroMAC) {
			continue
		}
		ip = ip.Unmap()
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
