package provider

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/planner"
)

// EnsureMacvlan makes a node interface as a macvlan (bridge mode) of a host
// interface, created directly in the node's namespace, unless a macvlan of
// that name is there. It goes with the node's namespace: down has nothing
// to remove on the host.
func EnsureMacvlan(host *netlink.Handle, m *planner.Macvlan, node *NS) (changed bool, err error) {
	l, err := linkByName(node.h, m.End.Name)
	if err != nil {
		return false, err
	}
	if l != nil {
		if l.Type() == "macvlan" {
			return false, nil
		}
		if err := node.h.LinkDel(l); err != nil {
			return false, fmt.Errorf("remove stale %s:%s: %w", m.End.Node, m.End.Name, err)
		}
	}
	parent, err := linkByName(host, m.Parent)
	if err != nil {
		return false, err
	}
	if parent == nil {
		return false, fmt.Errorf("network %s takes macvlans of host interface %s, which does not exist: create it or change macvlan", m.Network, m.Parent)
	}
	mv := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: m.End.Name, ParentIndex: parent.Attrs().Index, MTU: m.End.MTU,
			HardwareAddr: mac(m.End.MAC), Namespace: netlink.NsFd(node.fd)},
		Mode: netlink.MACVLAN_MODE_BRIDGE,
	}
	if err := host.LinkAdd(mv); err != nil {
		return false, fmt.Errorf("create macvlan %s:%s of %s: %w", m.End.Node, m.End.Name, m.Parent, err)
	}
	return true, nil
}

// EnsureHostLink makes a veth pair from the machine itself (v.A, under the
// name the file gives) into a node (v.B), and gives the machine's end its
// addresses. A host interface of that name that netlab did not make is an
// error, never removed.
func EnsureHostLink(host *netlink.Handle, v *planner.Veth, addrs []netip.Prefix, node *NS) (changed bool, err error) {
	changed, err = ensureHostVeth(host, v.A, v.B, node, 0)
	if err != nil {
		return changed, err
	}
	c, err := ensureAddrs(host, &planner.Addr{Iface: v.A.Name, Addrs: addrs})
	return changed || c, err
}
