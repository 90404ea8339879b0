// Package wire wires a lab from the host with netlink and nftables: veth
// pairs, bridges, macvlans and VLAN interfaces, addresses and routes in
// each node's namespace, the nodes' NAT and filter tables, the lab's
// isolation table and host firewall rules, and the reading and pruning of
// what is there. It works on the namespace handles, pids and names it is
// given, whichever runtime made them.
package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/planner"
)

// NS is a handle on one node's network namespace. Close it.
type NS struct {
	fd netns.NsHandle
	h  *netlink.Handle
}

// OpenNS opens the network namespace of process pid.
func OpenNS(pid int) (*NS, error) {
	fd, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("open namespace of pid %d: %w", pid, err)
	}
	return NewNS(fd, fmt.Sprintf("pid %d", pid))
}

// OpenNSPath opens a network namespace by path (/var/run/netns/NAME).
func OpenNSPath(path string) (*NS, error) {
	fd, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", path, err)
	}
	return NewNS(fd, path)
}

// NewNS takes over the namespace handle fd (what names it in errors) and
// opens a netlink handle in it, for routing (links, addresses, routes,
// queueing disciplines) alone: every socket of a handle is made inside
// the namespace, the thread entering it and coming back, and the
// netlink package's default of three (also XFRM and netfilter, which
// netlab does not use through it) made opening one a page's state read
// asks for every node twice a second three times as dear.
func NewNS(fd netns.NsHandle, what string) (*NS, error) {
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("netlink handle in namespace of %s: %w", what, err)
	}
	return &NS{fd: fd, h: h}, nil
}

// Close releases the namespace handle.
func (n *NS) Close() {
	if n == nil {
		return
	}
	n.h.Close()
	n.fd.Close()
}

// Handle is the netlink handle inside the namespace.
func (n *NS) Handle() *netlink.Handle { return n.h }

// FD is the namespace's file descriptor.
func (n *NS) FD() int { return int(n.fd) }

// LinkByName finds a link; (nil, nil) when there is none.
func LinkByName(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return l, err
}

// MAC parses a MAC address the lab file gives; "" is nil: the kernel picks.
func MAC(s string) net.HardwareAddr {
	hw, _ := net.ParseMAC(s) // checked by spec; "" gives nil: the kernel picks
	return hw
}

// EnsureBridge creates a lab bridge on the host (up, STP off, fixed MAC,
// alias naming its lab and network), or leaves it as it is.
func EnsureBridge(host *netlink.Handle, b *planner.Bridge) (changed bool, err error) {
	l, err := LinkByName(host, b.Name)
	if err != nil {
		return false, fmt.Errorf("look up bridge %s: %w", b.Name, err)
	}
	if b.External {
		switch {
		case l == nil:
			return false, fmt.Errorf("network %s is on the host's bridge %s (external), which does not exist: create it (ip link add %s type bridge) or change external", b.Network, b.Name, b.Name)
		case l.Type() != "bridge":
			return false, fmt.Errorf("network %s: host interface %s (external) is a %s, not a bridge", b.Network, b.Name, l.Type())
		}
		return false, nil
	}
	if l != nil {
		if l.Type() != "bridge" {
			return false, fmt.Errorf("bridge %s for network %s: a %s of that name exists; remove it", b.Name, b.Network, l.Type())
		}
		if l.Attrs().Alias == "" {
			// Made by an up killed before it named it (the kernel takes no
			// alias with a new link): finish it, or down would not find it.
			if err := host.LinkSetAlias(l, b.Alias); err != nil {
				return false, fmt.Errorf("set alias of bridge %s: %w", b.Name, err)
			}
		}
		if b.VLANFiltering {
			if br, ok := l.(*netlink.Bridge); !ok || br.VlanFiltering == nil || !*br.VlanFiltering {
				if err := host.BridgeSetVlanFiltering(l, true); err != nil {
					return false, fmt.Errorf("turn VLAN filtering on on bridge %s: %w", b.Name, err)
				}
			}
		}
		return false, host.LinkSetUp(l)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: b.Name, HardwareAddr: MAC(b.MAC), MTU: b.MTU}}
	if b.VLANFiltering {
		on := true
		br.VlanFiltering = &on
	}
	if err := host.LinkAdd(br); err != nil && !errors.Is(err, syscall.EEXIST) {
		return false, fmt.Errorf("create bridge %s for network %s: %w", b.Name, b.Network, err)
	}
	if err := host.LinkSetAlias(br, b.Alias); err != nil {
		return true, fmt.Errorf("set alias of bridge %s: %w", b.Name, err)
	}
	if err := host.LinkSetUp(br); err != nil {
		return true, fmt.Errorf("bring bridge %s up: %w", b.Name, err)
	}
	return true, nil
}

// EnsureLink creates a veth pair with each end directly in its node's
// namespace. A pair whose ends both exist is left alone; a lone end (its
// peer went with a restarted container) is removed and the pair remade.
func EnsureLink(host *netlink.Handle, v *planner.Veth, a, b *NS) (changed bool, err error) {
	la, err := LinkByName(a.h, v.A.Name)
	if err != nil {
		return false, err
	}
	lb, err := LinkByName(b.h, v.B.Name)
	if err != nil {
		return false, err
	}
	if la != nil && lb != nil {
		return false, nil
	}
	for _, stale := range []struct {
		h *netlink.Handle
		l netlink.Link
	}{{a.h, la}, {b.h, lb}} {
		if stale.l != nil {
			// Gone already is as good: a restarted node's old namespace,
			// which its end was in, may be taken apart meanwhile.
			if err := stale.h.LinkDel(stale.l); err != nil && !isNotFound(err) {
				return false, fmt.Errorf("remove stale %s: %w", stale.l.Attrs().Name, err)
			}
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: v.A.Name, Namespace: netlink.NsFd(a.fd), MTU: v.A.MTU, HardwareAddr: MAC(v.A.MAC)},
		PeerName:         v.B.Name,
		PeerNamespace:    netlink.NsFd(b.fd),
		PeerHardwareAddr: MAC(v.B.MAC),
		PeerMTU:          uint32(v.B.MTU),
	}
	if err := host.LinkAdd(veth); err != nil {
		return false, fmt.Errorf("create veth %s:%s <-> %s:%s: %w", v.A.Node, v.A.Name, v.B.Node, v.B.Name, err)
	}
	return true, nil
}

// EnsurePort creates a veth pair from a host bridge into a node: the host end
// (alias naming lab and node interface) on the bridge, the other end in the
// node's namespace under its own name.
func EnsurePort(host *netlink.Handle, v *planner.Veth, node *NS) (changed bool, err error) {
	br, err := host.LinkByName(v.Bridge)
	if err != nil {
		return false, fmt.Errorf("bridge %s: %w", v.Bridge, err)
	}
	changed, err = EnsureHostVeth(host, v.A, v.B, node, br.Attrs().Index)
	if err != nil || v.VLAN == nil {
		return changed, err
	}
	return changed, portVLANs(host, v)
}

// portVLANs sets a bridge port's VLANs where the bridge filters them: an
// access port is untagged in its VLAN only; a trunk keeps VLAN 1 untagged
// (the native VLAN) and carries its VLANs tagged. Adding is idempotent.
func portVLANs(host *netlink.Handle, v *planner.Veth) error {
	l, err := host.LinkByName(v.A.Name)
	if err != nil {
		return fmt.Errorf("port %s: %w", v.A.Name, err)
	}
	if pvid := v.VLAN.PVID; pvid != 0 {
		if err := host.BridgeVlanAdd(l, uint16(pvid), true, true, false, true); err != nil {
			return fmt.Errorf("VLAN %d on port %s (%s:%s): %w", pvid, v.A.Name, v.B.Node, v.B.Name, err)
		}
		if pvid != 1 {
			_ = host.BridgeVlanDel(l, 1, true, true, false, true) // not in the default VLAN any more; absent is fine
		}
	}
	for _, vid := range v.VLAN.Tagged {
		if err := host.BridgeVlanAdd(l, uint16(vid), false, false, false, true); err != nil {
			return fmt.Errorf("tagged VLAN %d on port %s (%s:%s): %w", vid, v.A.Name, v.B.Node, v.B.Name, err)
		}
	}
	return nil
}

// EnsureHostVeth makes a veth pair with hostEnd on the host (under master,
// if not 0) and nodeEnd in the node's namespace, unless both ends exist;
// a lone end is removed first.
func EnsureHostVeth(host *netlink.Handle, hostEnd, nodeEnd planner.VethEnd, node *NS, master int) (changed bool, err error) {
	lh, err := LinkByName(host, hostEnd.Name)
	if err != nil {
		return false, err
	}
	ln, err := LinkByName(node.h, nodeEnd.Name)
	if err != nil {
		return false, err
	}
	// A veth of this name without an alias is one an up made and was
	// killed before it named it (the kernel takes no alias with a new
	// link): it goes below, as a stale end does.
	leftover := lh != nil && lh.Attrs().Alias == "" && lh.Type() == "veth"
	if lh != nil && lh.Attrs().Alias != hostEnd.Alias && !leftover {
		return false, fmt.Errorf("host interface %s exists and is not netlab's for %s:%s (alias %q): choose another name, or remove it", hostEnd.Name, nodeEnd.Node, nodeEnd.Name, lh.Attrs().Alias)
	}
	if lh != nil && ln != nil && !leftover && lh.Attrs().MasterIndex != master && master != 0 {
		// A port detached from its bridge (or on another one): put it back.
		if err := host.LinkSetMasterByIndex(lh, master); err != nil {
			return false, fmt.Errorf("attach %s to its bridge again: %w", hostEnd.Name, err)
		}
		if err := host.LinkSetUp(lh); err != nil {
			return true, fmt.Errorf("bring %s up: %w", hostEnd.Name, err)
		}
		return true, nil
	}
	if lh != nil && ln != nil && !leftover && lh.Attrs().MasterIndex == master {
		if lh.Attrs().Flags&net.FlagUp == 0 { // set down on the host (netlab link … down, or by hand)
			if err := host.LinkSetUp(lh); err != nil {
				return false, fmt.Errorf("bring %s up: %w", hostEnd.Name, err)
			}
			return true, nil
		}
		return false, nil
	}
	if lh != nil {
		if err := host.LinkDel(lh); err != nil && !isNotFound(err) { // gone meanwhile with its peer's namespace is as good
			return false, fmt.Errorf("remove stale %s: %w", hostEnd.Name, err)
		}
	}
	if ln != nil && lh != nil {
		ln, _ = LinkByName(node.h, nodeEnd.Name) // it went with its peer, if it was lh's
	}
	if ln != nil {
		if err := node.h.LinkDel(ln); err != nil && !isNotFound(err) {
			return false, fmt.Errorf("remove stale %s:%s: %w", nodeEnd.Node, nodeEnd.Name, err)
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: hostEnd.Name, MTU: hostEnd.MTU, MasterIndex: master},
		PeerName:         nodeEnd.Name,
		PeerNamespace:    netlink.NsFd(node.fd),
		PeerHardwareAddr: MAC(nodeEnd.MAC),
		PeerMTU:          uint32(nodeEnd.MTU),
	}
	if err := host.LinkAdd(veth); err != nil {
		return false, fmt.Errorf("create veth %s <-> %s:%s: %w", hostEnd.Name, nodeEnd.Node, nodeEnd.Name, err)
	}
	if err := host.LinkSetAlias(veth, hostEnd.Alias); err != nil {
		return true, fmt.Errorf("set alias of %s: %w", hostEnd.Name, err)
	}
	if err := host.LinkSetUp(veth); err != nil {
		return true, fmt.Errorf("bring %s up: %w", hostEnd.Name, err)
	}
	return true, nil
}

// EnsureAddrs gives an interface its addresses (IPv6 without duplicate
// address detection, so they are usable at once) and brings it and the
// loopback up.
func EnsureAddrs(ns *NS, a *planner.Addr) (changed bool, err error) {
	changed, err = ensureAddrs(ns.h, a)
	if err != nil {
		return changed, err
	}
	if lo, err := ns.h.LinkByName("lo"); err == nil && lo.Attrs().Flags&net.FlagUp == 0 {
		if err := ns.h.LinkSetUp(lo); err != nil {
			return changed, fmt.Errorf("bring lo up: %w", err)
		}
	}
	return changed, nil
}

// ensureAddrs adds the addresses an interface lacks and brings it up.
func ensureAddrs(h *netlink.Handle, a *planner.Addr) (changed bool, err error) {
	l, err := h.LinkByName(a.Iface)
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", a.Iface, err)
	}
	have := map[netip.Prefix]bool{}
	list, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return false, fmt.Errorf("list addresses of %s: %w", a.Iface, err)
	}
	for _, x := range list {
		if p, ok := prefixOf(x.IPNet); ok {
			have[p] = true
		}
	}
	for _, p := range a.Addrs {
		if have[p] {
			continue
		}
		addr := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrReplace(l, addr); err != nil {
			return changed, fmt.Errorf("add %s to %s: %w", p, a.Iface, err)
		}
		changed = true
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(l); err != nil {
			return changed, fmt.Errorf("bring %s up: %w", a.Iface, err)
		}
		changed = true
	}
	return changed, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// EnsureRoute adds or replaces a static route.
func EnsureRoute(ns *NS, r *planner.Route) (changed bool, err error) {
	route := &netlink.Route{Dst: ipNet(r.Dst)}
	if r.Dst.Addr().Is6() {
		route.Family = netlink.FAMILY_V6
	} else {
		route.Family = netlink.FAMILY_V4
	}
	if r.Dev != "" {
		l, err := ns.h.LinkByName(r.Dev)
		if err != nil {
			return false, fmt.Errorf("route %s: interface %s: %w", r.Dst, r.Dev, err)
		}
		route.LinkIndex = l.Attrs().Index
	}
	if r.Via.IsValid() {
		route.Gw = r.Via.AsSlice()
	} else {
		route.Scope = netlink.SCOPE_LINK
	}
	// Protocol "static" marks the route as the lab file's (ip route shows
	// "proto static"): up removes such routes when the file drops them, and
	// leaves a student's own (protocol "boot") alone. An equal route of
	// another protocol is taken over.
	route.Protocol = unix.RTPROT_STATIC
	existing, err := ns.h.RouteListFiltered(route.Family, &netlink.Route{Dst: route.Dst}, netlink.RT_FILTER_DST)
	if err == nil {
		for _, e := range existing {
			if e.Gw.Equal(route.Gw) && (route.LinkIndex == 0 || e.LinkIndex == route.LinkIndex) && e.Dst != nil && e.Dst.String() == route.Dst.String() &&
				e.Protocol == unix.RTPROT_STATIC {
				return false, nil
			}
		}
	}
	if err := ns.h.RouteReplace(route); err != nil {
		return false, fmt.Errorf("route %s: %w", r.String(), err)
	}
	return true, nil
}

// EnsureEnd sets a node interface's MAC and MTU where the file gives them
// and they differ: a kept node follows an edited file, and up undoes a
// change made by hand.
func EnsureEnd(ns *NS, e planner.VethEnd) (bool, error) {
	if e.MAC == "" && e.MTU == 0 {
		return false, nil
	}
	l, err := ns.h.LinkByName(e.Name)
	if err != nil {
		return false, fmt.Errorf("%s:%s: %w", e.Node, e.Name, err)
	}
	changed := false
	if e.MTU != 0 && l.Attrs().MTU != e.MTU {
		if err := ns.h.LinkSetMTU(l, e.MTU); err != nil {
			return false, fmt.Errorf("set the MTU of %s:%s to %d: %w", e.Node, e.Name, e.MTU, err)
		}
		changed = true
	}
	if want := MAC(e.MAC); want != nil && l.Attrs().HardwareAddr.String() != want.String() {
		err := ns.h.LinkSetHardwareAddr(l, want)
		if errors.Is(err, unix.EBUSY) { // a device that takes a new MAC only while down
			if err = ns.h.LinkSetDown(l); err == nil {
				err = ns.h.LinkSetHardwareAddr(l, want)
				if upErr := ns.h.LinkSetUp(l); err == nil {
					err = upErr
				}
			}
		}
		if err != nil {
			return changed, fmt.Errorf("set the MAC of %s:%s to %s: %w", e.Node, e.Name, want, err)
		}
		changed = true
	}
	return changed, nil
}

// WaitLease waits until the node's interface holds an IPv4 address, which
// its DHCP client puts there, at most timeout.
func WaitLease(ctx context.Context, ns *NS, iface string, timeout time.Duration) (waited bool, err error) {
	deadline := time.Now().Add(timeout)
	for {
		l, err := ns.h.LinkByName(iface)
		if err != nil {
			return waited, fmt.Errorf("interface %s: %w", iface, err)
		}
		if addrs, _ := ns.h.AddrList(l, netlink.FAMILY_V4); len(addrs) > 0 {
			return waited, nil
		}
		if time.Now().After(deadline) {
			return waited, fmt.Errorf("%s holds no DHCP lease after %s", iface, timeout)
		}
		waited = true
		select {
		case <-ctx.Done():
			return waited, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Readdress takes the interface's addresses away and gives them again: a
// routing daemon that missed them (FRR 8.4's zebra and ospfd, when a
// peer's restart deleted the interface and up made it again before they
// had read the deletion) sees them arrive afresh. Addresses not there are
// just given.
func Readdress(ns *NS, a *planner.Addr) error {
	l, err := ns.h.LinkByName(a.Iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", a.Iface, err)
	}
	for _, p := range a.Addrs {
		if err := ns.h.AddrDel(l, &netlink.Addr{IPNet: ipNet(p)}); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("take %s from %s: %w", p, a.Iface, err)
		}
	}
	_, err = ensureAddrs(ns.h, a)
	return err
}
