package wire

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/internal/nldump"
	"github.com/netlab/netlab/planner"
	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/naming"
	"golang.org/x/sys/unix"
)

// Reading a node's namespace (what runs of a lab, for up's convergence and
// for status) and removing from it what the lab file no longer has.

// ObserveNode reads, in the namespace of pid, the interfaces (but lo)
// with their addresses, those of them made from outside the namespace,
// and the routes netlab put there.
func ObserveNode(pid int, n *converge.Node) error {
	ns, err := OpenNS(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	links, err := nldump.Retry(ns.h.LinkList)
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	n.Interfaces = map[string][]converge.Addr{}
	n.Links = map[string]converge.Link{}
	names := map[int]string{}
	for _, l := range links {
		name := l.Attrs().Name
		names[l.Attrs().Index] = name
		if name == "lo" {
			continue
		}
		if madeOutside(l) {
			n.Outside = append(n.Outside, name)
		}
		addrs, err := ns.h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list addresses of %s: %w", name, err)
		}
		n.Interfaces[name] = []converge.Addr{}
		n.Links[name] = converge.Link{MAC: l.Attrs().HardwareAddr.String(), MTU: l.Attrs().MTU}
		for _, x := range addrs {
			if p, ok := prefixOf(x.IPNet); ok {
				dynamic := x.ValidLft > 0 && uint32(x.ValidLft) != 0xffffffff
				n.Interfaces[name] = append(n.Interfaces[name], converge.Addr{Prefix: p, Dynamic: dynamic})
			}
		}
	}
	routes, err := staticRoutes(ns)
	if err != nil {
		return err
	}
	for _, r := range routes {
		n.Routes = append(n.Routes, kernelRoute(r, names))
	}
	return nil
}

// staticRoutes lists the routes netlab put in a node: protocol "static"
// in the main table (see EnsureRoute).
func staticRoutes(ns *NS) ([]netlink.Route, error) {
	routes, err := nldump.Retry(func() ([]netlink.Route, error) {
		return ns.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_STATIC},
			netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return routes, nil
}

// madeOutside tells whether an interface was made from outside the
// namespace that holds it: a veth whose peer, or a macvlan or VLAN
// interface whose parent, is in another namespace (the kernel then gives
// the other namespace's id); and a tunnel's end, which netlab made in the
// namespace from outside it. The runtime's own interface (the pod
// network's) is not.
func madeOutside(l netlink.Link) bool {
	if l.Attrs().Alias == naming.RuntimeIfaceAlias {
		return false // the runtime's, not netlab's
	}
	switch l.Type() {
	case "vxlan":
		return isTunnelEnd(l)
	case "veth", "macvlan", "macvtap", "vlan":
		return l.Attrs().NetNsID >= 0
	}
	return false
}

// kernelRoute is a kernel route as the plan writes routes.
func kernelRoute(r netlink.Route, names map[int]string) planner.Route {
	out := planner.Route{Dst: routeDst(r), Dev: names[r.LinkIndex]}
	if gw, ok := netip.AddrFromSlice(r.Gw); ok {
		out.Via = gw.Unmap()
	}
	return out
}

// RemoveAddr deletes an address (as converge.Diff names it) from a
// node's interface.
func RemoveAddr(ns *NS, c converge.Change) error {
	l, err := ns.h.LinkByName(c.Iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", c.Iface, err)
	}
	addr, err := netlink.ParseAddr(c.Name)
	if err != nil {
		return err
	}
	if err := ns.h.AddrDel(l, addr); err != nil && !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "cannot assign") {
		return err
	}
	return nil
}

// RemoveInNode deletes an interface or a route (as converge.Diff names
// them) from a node; already gone is success: a veth's peer goes with it.
func RemoveInNode(ns *NS, c converge.Change) error {
	links, err := nldump.Retry(ns.h.LinkList)
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
		if c.Object == converge.ObjInterface && l.Attrs().Name == c.Iface {
			if err := ns.h.LinkDel(l); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	if c.Object != converge.ObjRoute {
		return nil
	}
	routes, err := staticRoutes(ns)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if kernelRoute(r, names).String() == c.Name {
			if err := ns.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
		}
	}
	return nil
}

// Iface is an interface as seen inside a node.
type Iface struct {
	Name    string
	Up      bool
	Carrier bool // the link beneath is up
	MAC     string
	MTU     int
	Addrs   []string
	DHCP    []string // those of Addrs that a DHCP lease gave (IPv4 with a lifetime)
}

// ReadNS reads a node's interfaces (but lo), by name, with their
// addresses (but link-local ones), and its default routes' gateways.
func ReadNS(ns *NS) ([]Iface, []string) {
	ifs := readLinks(ns, true)
	gws := []string{}
	routes, _ := ns.h.RouteList(nil, netlink.FAMILY_ALL)
	for _, r := range routes {
		if (r.Dst == nil || isDefault(r.Dst.String())) && r.Gw != nil {
			gws = append(gws, r.Gw.String())
		}
	}
	return ifs, gws
}

// ReadLinks reads a node's interfaces (but lo), by name, as ReadNS does
// but without their addresses (Addrs empty): one netlink request where
// ReadNS makes one per interface and one for the routes. A page's state
// shows no more, and is read twice a second.
func ReadLinks(ns *NS) []Iface { return readLinks(ns, false) }

func readLinks(ns *NS, withAddrs bool) []Iface {
	ifs := []Iface{}
	links, _ := nldump.Retry(ns.h.LinkList)
	for _, l := range links {
		a := l.Attrs()
		if a.Name == "lo" {
			continue
		}
		st := Iface{Name: a.Name, Up: a.Flags&1 != 0, Carrier: a.RawFlags&unix.IFF_LOWER_UP != 0, MAC: a.HardwareAddr.String(), MTU: a.MTU, Addrs: []string{}}
		var addrs []netlink.Addr
		if withAddrs {
			addrs, _ = ns.h.AddrList(l, netlink.FAMILY_ALL)
		}
		for _, x := range addrs {
			if p, ok := prefixOf(x.IPNet); ok && !p.Addr().IsLinkLocalUnicast() {
				st.Addrs = append(st.Addrs, p.String())
				if p.Addr().Is4() && x.ValidLft > 0 && uint32(x.ValidLft) != 0xffffffff {
					st.DHCP = append(st.DHCP, p.String())
				}
			}
		}
		ifs = append(ifs, st)
	}
	sort.Slice(ifs, func(i, j int) bool { return ifs[i].Name < ifs[j].Name })
	return ifs
}

func isDefault(s string) bool { return s == "0.0.0.0/0" || s == "::/0" }
