package wire

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/internal/nldump"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// EnsureMacvlan makes a node interface as a macvlan (bridge mode) of a host
// interface, created directly in the node's namespace, unless a macvlan of
// that name is there. It goes with the node's namespace: down has nothing
// to remove on the host.
func EnsureMacvlan(host *netlink.Handle, m *planner.Macvlan, node *NS) (changed bool, err error) {
	l, err := LinkByName(node.h, m.End.Name)
	if err != nil {
		return false, err
	}
	if l != nil {
		if l.Type() == "macvlan" {
			return false, nil
		}
		if err := node.h.LinkDel(l); err != nil && !isNotFound(err) {
			return false, fmt.Errorf("remove stale %s:%s: %w", m.End.Node, m.End.Name, err)
		}
	}
	parent, err := LinkByName(host, m.Parent)
	if err != nil {
		return false, err
	}
	if parent == nil {
		return false, fmt.Errorf("network %s takes macvlans of host interface %s, which does not exist: create it or change macvlan", m.Network, m.Parent)
	}
	mv := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: m.End.Name, ParentIndex: parent.Attrs().Index, MTU: m.End.MTU,
			HardwareAddr: MAC(m.End.MAC), Namespace: netlink.NsFd(node.fd)},
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
	changed, err = EnsureHostVeth(host, v.A, v.B, node, 0)
	if err != nil {
		return changed, err
	}
	c, err := ensureAddrs(host, &planner.Addr{Iface: v.A.Name, Addrs: addrs})
	return changed || c, err
}

// EnsureVLANIf makes an 802.1Q sub-interface of a node interface in the
// node's namespace, unless one of that name is there.
func EnsureVLANIf(node *NS, v *planner.VLANIf) (changed bool, err error) {
	l, err := LinkByName(node.h, v.End.Name)
	if err != nil {
		return false, err
	}
	if l != nil {
		if vl, ok := l.(*netlink.Vlan); ok && vl.VlanId == v.VID {
			return false, nil
		}
		if err := node.h.LinkDel(l); err != nil && !isNotFound(err) {
			return false, fmt.Errorf("remove stale %s:%s: %w", v.End.Node, v.End.Name, err)
		}
	}
	parent, err := node.h.LinkByName(v.Parent)
	if err != nil {
		return false, fmt.Errorf("%s:%s, parent of %s: %w", v.End.Node, v.Parent, v.End.Name, err)
	}
	vl := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: v.End.Name, ParentIndex: parent.Attrs().Index,
		HardwareAddr: MAC(v.End.MAC), MTU: v.End.MTU}, VlanId: v.VID}
	if err := node.h.LinkAdd(vl); err != nil {
		return false, fmt.Errorf("create %s:%s (VLAN %d on %s): %w", v.End.Node, v.End.Name, v.VID, v.Parent, err)
	}
	return true, nil
}

// KernelHasTaggedVLANs tells whether this kernel makes 802.1Q devices and
// filters VLANs on bridges, by trying both in a namespace of its own that
// vanishes afterwards. Without them, VLANs are made as one bridge each.
func KernelHasTaggedVLANs() bool {
	ok := make(chan bool, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the probe's namespace if it cannot return
		orig, err := netns.Get()
		if err != nil {
			ok <- false
			return
		}
		defer orig.Close()
		probe, err := netns.New() // switches this thread into it
		if err != nil {
			ok <- false
			return
		}
		defer probe.Close()
		on := true
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "nlprobe0"}, VlanFiltering: &on}
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nlprobe1"}, PeerName: "nlprobe2"}
		works := netlink.LinkAdd(br) == nil && netlink.LinkAdd(veth) == nil
		if works {
			parent, err := netlink.LinkByName("nlprobe1")
			works = err == nil && netlink.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "nlprobe1.10", ParentIndex: parent.Attrs().Index}, VlanId: 10}) == nil
		}
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		ok <- works
	}()
	return <-ok
}

// EnsureNDPProxy adds the proxy neighbour entries an interface lacks, so
// that the node answers neighbour solicitations for those addresses
// (net.ipv6.conf.all.proxy_ndp is on as a container sysctl).
func EnsureNDPProxy(ns *NS, p *planner.NDPProxy) (changed bool, err error) {
	l, err := ns.h.LinkByName(p.Iface)
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", p.Iface, err)
	}
	have := map[netip.Addr]bool{}
	list, err := ns.h.NeighProxyList(l.Attrs().Index, netlink.FAMILY_V6)
	if err != nil {
		return false, fmt.Errorf("list proxy neighbours on %s: %w", p.Iface, err)
	}
	for _, n := range list {
		if a, ok := netip.AddrFromSlice(n.IP); ok {
			have[a.Unmap()] = true
		}
	}
	for _, a := range p.Addrs {
		if have[a] {
			continue
		}
		n := &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: netlink.FAMILY_V6, Flags: netlink.NTF_PROXY, IP: a.AsSlice()}
		if err := ns.h.NeighSet(n); err != nil {
			return changed, fmt.Errorf("proxy NDP for %s on %s: %w", a, p.Iface, err)
		}
		changed = true
	}
	return changed, nil
}

// RemoveNodeLinks deletes the node's host interfaces (bridge ports, relay
// ends) that outlived its container.
func RemoveNodeLinks(lab, node string, links []netlink.Link) error {
	for _, l := range links {
		alias := l.Attrs().Alias
		if !strings.HasPrefix(alias, naming.AliasPrefix+lab+":port:"+node+":") && !strings.HasPrefix(alias, naming.AliasPrefix+lab+":relay:"+node+":") {
			continue
		}
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s (%s): %w", l.Attrs().Name, alias, err)
		}
	}
	return nil
}

// Unplug deletes every interface of a node's namespace but its loopback
// and its runtime's own (naming.RuntimeIfaceAlias). A veth's other end goes with it; an interface stacked on another (a
// VLAN) may be gone before its turn, which is no error. A physical
// interface cannot be deleted: it is set down, and the kernel gives it
// back to the host when the namespace goes.
func Unplug(ns *NS) error {
	links, err := nldump.Retry(ns.h.LinkList)
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback != 0 || l.Attrs().Alias == naming.RuntimeIfaceAlias {
			continue
		}
		if l.Type() == "device" {
			if err := ns.h.LinkSetDown(l); err != nil && !isNotFound(err) {
				return fmt.Errorf("set %s down: %w", l.Attrs().Name, err)
			}
			continue
		}
		if err := ns.h.LinkDel(l); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s: %w", l.Attrs().Name, err)
		}
	}
	return nil
}

// isNotFound tells whether a netlink error says that the link is gone.
func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || strings.Contains(err.Error(), "no such device")
}

// HostLinks lists the host interfaces (bridges, ports) owned by the lab, or
// by any lab if lab is "".
func HostLinks(lab string) ([]netlink.Link, error) {
	all, err := nldump.Retry(netlink.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list host interfaces: %w", err)
	}
	var out []netlink.Link
	for _, l := range all {
		alias := l.Attrs().Alias
		if (lab == "" && naming.LabOf(alias) != "") || (lab != "" && naming.OwnedBy(alias, lab)) {
			out = append(out, l)
		}
	}
	return out, nil
}

// HostLink is the lab's host interface of that name (a bridge port),
// asked of the kernel by its name alone: nil when there is none, or
// another's. Status reads a lab's ports so, not by listing every host
// interface (HostLinks): with many labs running, each lab's listing is
// the whole host's, and a class server reading 30 labs twice a second
// spent most of its time, and the kernel's, there.
func HostLink(lab, name string) netlink.Link {
	l, err := netlink.LinkByName(name)
	if err != nil || !naming.OwnedBy(l.Attrs().Alias, lab) {
		return nil
	}
	return l
}

// RemoveHostLink deletes a host interface; gone is success.
func RemoveHostLink(l netlink.Link) error {
	if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// RemoveLabHost removes what the lab has on this host outside its nodes:
// its host interfaces (ports before bridges, so that no port is left loose
// in between), its host firewall rules, guard and isolation tables. It
// counts what it removed; what is gone already counts as done.
func RemoveLabHost(lab string) (links, rules int, err error) {
	var errs []error
	all, err := HostLinks(lab)
	if err != nil {
		errs = append(errs, err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Type() != "bridge" && all[j].Type() == "bridge" })
	for _, l := range all {
		if err := RemoveHostLink(l); err != nil {
			errs = append(errs, fmt.Errorf("remove %s (%s): %w", l.Attrs().Name, l.Attrs().Alias, err))
			continue
		}
		links++
	}
	n, err := RemoveHostForward(lab)
	rules += n
	if err != nil {
		errs = append(errs, err)
	}
	if n, err := RemoveGuard(lab); err != nil {
		errs = append(errs, err)
	} else {
		rules += n
	}
	if removed, err := RemoveIsolation(lab); err != nil {
		errs = append(errs, err)
	} else if removed {
		rules++
	}
	return links, rules, errors.Join(errs...)
}
