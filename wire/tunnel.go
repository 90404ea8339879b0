package wire

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// A link whose two nodes run on different hosts (a cluster's pods) cannot
// be a veth: each end is a VXLAN device in its node's namespace, over the
// node's own interface on the network between the hosts (the pod
// network), sending to the other node's address there. The ends are
// independent devices, each made in its own node: nothing of the link is
// on the hosts, and the lab needs of the network between pods only that it
// carries UDP to port VXLANPort.

// VXLANPort is the UDP port of netlab's tunnels (IANA's VXLAN port).
const VXLANPort = 4789

// Tunnel is what one end of a tunnelled link needs besides its name.
type Tunnel struct {
	Lab    string
	VNI    int        // the link's, unique in the lab
	Under  string     // the node's interface on the network between hosts
	Local  netip.Addr // the node's address on it
	Remote netip.Addr // the other end's node's address
	Peer   planner.VethEnd
}

// TunnelOverhead is what VXLAN adds to each packet: the outer Ethernet,
// IP, UDP and VXLAN headers.
func TunnelOverhead(remote netip.Addr) int {
	if remote.Is6() {
		return 70
	}
	return 50
}

// EnsureTunnelEnd makes end a VXLAN device of t in ns, unless one with the
// same VNI and addresses is there (a device of that name that differs, a
// veth left from when both nodes shared a host or a tunnel to the peer's
// earlier address, is removed first). Its MTU is end's, or the underlying
// interface's less TunnelOverhead; mtu is the one it has.
func EnsureTunnelEnd(ns *NS, end planner.VethEnd, t Tunnel) (changed bool, mtu int, err error) {
	have, err := LinkByName(ns.h, end.Name)
	if err != nil {
		return false, 0, err
	}
	if err := AllowTunnelPeer(ns, t.Remote); err != nil {
		return false, 0, fmt.Errorf("tunnel %s:%s to %s:%s: %w", end.Node, end.Name, t.Peer.Node, t.Peer.Name, err)
	}
	if v, ok := have.(*netlink.Vxlan); ok && v.VxlanId == t.VNI && v.Port == VXLANPort &&
		v.Group.Equal(t.Remote.AsSlice()) && v.SrcAddr.Equal(t.Local.AsSlice()) {
		return false, v.MTU, nil
	}
	under, err := LinkByName(ns.h, t.Under)
	if err != nil {
		return false, 0, err
	}
	if under == nil {
		return false, 0, fmt.Errorf("tunnel %s:%s to %s:%s: node %s has no interface %s to carry it", end.Node, end.Name, t.Peer.Node, t.Peer.Name, end.Node, t.Under)
	}
	if have != nil {
		if err := ns.h.LinkDel(have); err != nil && !isNotFound(err) {
			return false, 0, fmt.Errorf("remove %s:%s (%s) to make it a tunnel: %w", end.Node, end.Name, have.Type(), err)
		}
	}
	mtu = end.MTU
	if mtu == 0 {
		mtu = under.Attrs().MTU - TunnelOverhead(t.Remote)
	}
	v := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: end.Name, MTU: mtu, HardwareAddr: MAC(end.MAC)},
		VxlanId:      t.VNI,
		VtepDevIndex: under.Attrs().Index,
		SrcAddr:      t.Local.AsSlice(),
		Group:        t.Remote.AsSlice(), // a unicast group is the one remote end
		Port:         VXLANPort,
		Learning:     false,
	}
	if err := ns.h.LinkAdd(v); err != nil {
		return false, 0, fmt.Errorf("create tunnel %s:%s to %s:%s (VXLAN %d, %s to %s over %s): %w",
			end.Node, end.Name, t.Peer.Node, t.Peer.Name, t.VNI, t.Local, t.Remote, t.Under, err)
	}
	// The kernel takes an alias from a link that exists only.
	if err := ns.h.LinkSetAlias(v, naming.TunnelAlias(t.Lab, t.Peer.Node, t.Peer.Name)); err != nil {
		return true, mtu, fmt.Errorf("mark tunnel %s:%s as netlab's: %w", end.Node, end.Name, err)
	}
	return true, mtu, nil
}

// isTunnelEnd tells whether an interface is the end of a tunnel netlab
// made (the alias of EnsureTunnelEnd's devices).
func isTunnelEnd(l netlink.Link) bool {
	_, ok := l.(*netlink.Vxlan)
	return ok && naming.LabOf(l.Attrs().Alias) != "" && strings.Contains(l.Attrs().Alias, ":tunnel:")
}

// EnsureHostTunnel makes a tunnel end that is a device of the host but
// sends and receives in node's namespace: the VXLAN device is made by the
// node's netlink socket, so its UDP socket, its underlying interface
// (t.Under) and its source address (t.Local) are the node's, and is
// placed in the host's namespace (this process's), named and marked as
// hostEnd. An impaired link across hosts is one: its node end here a veth
// to the host, a relay between the two host ends, and the far node's end
// the same tunnel end as when the link is not impaired. Once made, it
// goes with the node's namespace. mtu is the one it has.
func EnsureHostTunnel(host *netlink.Handle, node *NS, hostEnd planner.VethEnd, t Tunnel) (changed bool, mtu int, err error) {
	if err := AllowTunnelPeer(node, t.Remote); err != nil {
		return false, 0, fmt.Errorf("tunnel %s to %s:%s: %w", hostEnd.Name, t.Peer.Node, t.Peer.Name, err)
	}
	have, err := LinkByName(host, hostEnd.Name)
	if err != nil {
		return false, 0, err
	}
	if v, ok := have.(*netlink.Vxlan); ok && v.Alias == hostEnd.Alias && v.VxlanId == t.VNI && v.Port == VXLANPort &&
		v.Group.Equal(t.Remote.AsSlice()) && v.SrcAddr.Equal(t.Local.AsSlice()) && v.Flags&net.FlagUp != 0 {
		return false, v.MTU, nil
	}
	if have != nil {
		if have.Attrs().Alias != hostEnd.Alias && have.Attrs().Alias != "" {
			return false, 0, fmt.Errorf("host interface %s exists and is not netlab's for %s:%s (alias %q): remove it", hostEnd.Name, t.Peer.Node, t.Peer.Name, have.Attrs().Alias)
		}
		if err := host.LinkDel(have); err != nil && !isNotFound(err) {
			return false, 0, fmt.Errorf("remove stale %s: %w", hostEnd.Name, err)
		}
	}
	under, err := LinkByName(node.h, t.Under)
	if err != nil {
		return false, 0, err
	}
	if under == nil {
		return false, 0, fmt.Errorf("tunnel %s to %s:%s: the node has no interface %s to carry it", hostEnd.Name, t.Peer.Node, t.Peer.Name, t.Under)
	}
	self, err := netns.GetFromPath("/proc/self/ns/net")
	if err != nil {
		return false, 0, fmt.Errorf("open this host's namespace: %w", err)
	}
	defer self.Close()
	mtu = hostEnd.MTU
	if mtu == 0 {
		mtu = under.Attrs().MTU - TunnelOverhead(t.Remote)
	}
	v := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: hostEnd.Name, MTU: mtu, Namespace: netlink.NsFd(self)},
		VxlanId:      t.VNI,
		VtepDevIndex: under.Attrs().Index,
		SrcAddr:      t.Local.AsSlice(),
		Group:        t.Remote.AsSlice(),
		Port:         VXLANPort,
		Learning:     false,
	}
	if err := node.h.LinkAdd(v); err != nil {
		return false, 0, fmt.Errorf("create tunnel %s to %s:%s (VXLAN %d, %s to %s over the node's %s): %w",
			hostEnd.Name, t.Peer.Node, t.Peer.Name, t.VNI, t.Local, t.Remote, t.Under, err)
	}
	made, err := LinkByName(host, hostEnd.Name)
	if err == nil && made == nil {
		err = fmt.Errorf("tunnel %s was made but is not on the host", hostEnd.Name)
	}
	if err == nil {
		err = host.LinkSetAlias(made, hostEnd.Alias)
	}
	if err == nil {
		err = host.LinkSetUp(made)
	}
	if err != nil {
		return true, mtu, fmt.Errorf("tunnel %s to %s:%s: %w", hostEnd.Name, t.Peer.Node, t.Peer.Name, err)
	}
	return true, mtu, nil
}

// RemoveTunnelEnd removes end from ns if it is a tunnel end netlab made
// (a link across hosts whose end here becomes another device: its VNI
// and port are then free for that one).
func RemoveTunnelEnd(ns *NS, end planner.VethEnd) (bool, error) {
	l, err := LinkByName(ns.h, end.Name)
	if err != nil || l == nil || !isTunnelEnd(l) {
		return false, err
	}
	if err := ns.h.LinkDel(l); err != nil && !isNotFound(err) {
		return false, fmt.Errorf("remove tunnel end %s:%s: %w", end.Node, end.Name, err)
	}
	return true, nil
}
