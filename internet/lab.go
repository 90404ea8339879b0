package internet

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Images of the lab's nodes.
const (
	RouterImage = "netlab/router"
	HostImage   = "netlab/host"
)

var nameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_-]{0,30}[A-Za-z0-9])?$`)

// router is a router's node while the lab is written.
type router struct {
	as      *AS
	r       *Router
	node    string
	ifaces  *yaml.Node // name -> {network, address, ...}
	used    map[string]bool
	ospf    []*yaml.Node
	passive []string
	ebgp    []*yaml.Node
}

// writer holds what Lab has written so far, and what was wrong.
type writer struct {
	in      *Internet
	routers map[string]*router // "AS/NAME"
	order   []*router
	nodes   *yaml.Node
	links   *yaml.Node
	errs    []error
}

func (w *writer) fail(format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf(format, args...))
}

func (w *writer) router(as int, name string) *router {
	return w.routers[strconv.Itoa(as)+"/"+name]
}

// iface adds an interface to a router, refusing a name given twice or one
// the kernel does not take.
func (w *writer) iface(rt *router, name string, v *yaml.Node) {
	switch {
	case len(name) > 15:
		w.fail("AS %d router %s: interface name %s is longer than 15 bytes: shorten the router's or its neighbor's name", rt.as.Number, rt.r.Name, name)
	case rt.used[name]:
		w.fail("AS %d router %s: two interfaces named %s (two links to the same router?)", rt.as.Number, rt.r.Name, name)
	default:
		rt.used[name] = true
		put(rt.ifaces, name, v)
	}
}

func addr(p netip.Prefix) *yaml.Node {
	m := flowMap()
	put(m, "address", str(p.String()))
	return m
}

// Lab writes the Internet as a netlab lab file.
func Lab(in *Internet) ([]byte, error) {
	w := &writer{in: in, routers: map[string]*router{}, nodes: mapping(), links: list()}
	root := mapping()
	if len(in.Header) > 0 {
		root.HeadComment = ""
		for i, l := range in.Header {
			if i > 0 {
				root.HeadComment += "\n"
			}
			if l == "" {
				root.HeadComment += "#"
			} else {
				root.HeadComment += "# " + commentText(l)
			}
		}
	}
	put(root, "name", str(in.Name))
	defaults := put(root, "defaults", flowMap())
	put(defaults, "image", str(HostImage))
	networks := mapping()
	w.ases()
	for _, as := range in.ASes {
		w.internal(as)
		w.switched(as, networks)
	}
	w.external()
	w.ixps(networks)
	w.routing()
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	if len(networks.Content) > 0 {
		put(root, "networks", networks)
	}
	put(root, "nodes", w.nodes)
	if len(w.links.Content) > 0 {
		put(root, "links", w.links)
	}
	if len(in.Checks) > 0 {
		checks := put(root, "checks", list())
		for _, c := range in.Checks {
			m := add(checks, flowMap())
			put(m, "from", str(c[0]))
			put(m, "ping", str(c[1]))
			put(m, "within", str("180s"))
			put(m, "hint", str("BGP must converge first: vtysh -c 'show bgp summary' on the routers between them"))
		}
	}
	return marshal(root)
}

// ases adds every router's node, and every host behind a router, with
// its link.
func (w *writer) ases() {
	seen := map[int]bool{}
	for _, as := range w.in.ASes {
		if msg := CheckAS(as.Number); msg != "" {
			w.fail("%s", msg)
		}
		if seen[as.Number] {
			w.fail("AS %d is given twice", as.Number)
		}
		seen[as.Number] = true
		if len(as.Routers) > MaxRouters {
			w.fail("AS %d has %d routers; the address plan numbers at most %d", as.Number, len(as.Routers), MaxRouters)
		}
		for k, r := range as.Routers {
			if !nameRe.MatchString(r.Name) {
				w.fail("AS %d: router name %q must be letters, digits, '_' and '-' (at most 32)", as.Number, r.Name)
				continue
			}
			rt := &router{as: as, r: r, node: RouterNode(as.Number, r.Name), ifaces: mapping(), used: map[string]bool{}}
			if w.router(as.Number, r.Name) != nil {
				w.fail("AS %d: router %s is given twice", as.Number, r.Name)
				continue
			}
			w.routers[strconv.Itoa(as.Number)+"/"+r.Name] = rt
			w.order = append(w.order, rt)
			n := put(w.nodes, rt.node, mapping())
			if k == 0 && as.Comment != "" {
				w.nodes.Content[len(w.nodes.Content)-2].HeadComment = "# " + commentText(as.Comment)
			}
			put(n, "image", str(RouterImage))
			put(n, "forward", yes())
			put(n, "group", num(as.Number))
			put(n, "interfaces", rt.ifaces)
			for h, slot := range r.Hosts {
				if slot < 0 || slot >= MaxRouters {
					w.fail("AS %d router %s: host slot %d is outside the address plan (0 to %d)", as.Number, r.Name, slot, MaxRouters-1)
					continue
				}
				ifname := r.HostIfaces[h]
				w.iface(rt, ifname, addr(HostGateway(as.Number, slot)))
				rt.ospf = append(rt.ospf, str(ifname))
				rt.passive = append(rt.passive, ifname)
				host := HostNode(as.Number, r.Name, ifname)
				hn := put(w.nodes, host, mapping())
				put(hn, "group", num(as.Number))
				put(put(hn, "interfaces", mapping()), "eth0", addr(HostAddr(as.Number, slot)))
				if as.Configured {
					put(hn, "gateway", str(HostGateway(as.Number, slot).Addr().String()))
				}
				add(w.links, strList(rt.node+":"+ifname, host+":eth0"))
			}
		}
	}
}

// internal adds the links between an AS's routers.
func (w *writer) internal(as *AS) {
	for n, l := range as.Internal {
		if l[0] < 0 || l[1] < 0 || l[0] >= len(as.Routers) || l[1] >= len(as.Routers) || l[0] == l[1] {
			w.fail("AS %d: internal link %d joins routers %d and %d, which it has not", as.Number, n+1, l[0], l[1])
			continue
		}
		a, b := w.router(as.Number, as.Routers[l[0]].Name), w.router(as.Number, as.Routers[l[1]].Name)
		if a == nil || b == nil || n+1 > 255 {
			continue
		}
		ia, ib := "port_"+b.r.Name, "port_"+a.r.Name
		w.iface(a, ia, addr(InternalAddr(as.Number, n, 1)))
		w.iface(b, ib, addr(InternalAddr(as.Number, n, 2)))
		for _, e := range []struct {
			rt *router
			i  string
		}{{a, ia}, {b, ib}} {
			o := flowMap()
			put(o, "name", str(e.i))
			put(o, "cost", num(1))
			e.rt.ospf = append(e.rt.ospf, o)
		}
		add(w.links, strList(a.node+":"+ia, b.node+":"+ib))
	}
}

// switched adds an AS's switched networks: one bridge each, its routers'
// trunk ports and VLAN sub-interfaces, its hosts' access ports.
func (w *writer) switched(as *AS, networks *yaml.Node) {
	if len(as.L2) > MaxL2 {
		w.fail("AS %d has %d switched networks; the address plan numbers at most %d", as.Number, len(as.L2), MaxL2)
		return
	}
	for n, l2 := range as.L2 {
		net := L2Network(as.Number, l2.Name)
		put(networks, net, flowMap())
		if len(l2.Switches) > 0 {
			networks.Content[len(networks.Content)-2].HeadComment = "# " + commentText(fmt.Sprintf("AS %d's %s: switches %v", as.Number, l2.Name, l2.Switches))
		}
		var members []*router
		for _, r := range as.Routers {
			if r.L2 == l2.Name {
				if rt := w.router(as.Number, r.Name); rt != nil {
					members = append(members, rt)
				}
			}
		}
		var tagged []int
		untagged := false
		for _, v := range l2.VLANs {
			if v < 0 || v > MaxVLAN {
				w.fail("AS %d %s: VLAN %d is outside 0 (untagged) to %d", as.Number, l2.Name, v, MaxVLAN)
				return
			}
			if v == 0 {
				untagged = true
			} else {
				tagged = append(tagged, v)
			}
		}
		for k, rt := range members {
			base := rt.r.Name + "-L2"
			if len(base)+4 > 15 {
				base = "L2"
			}
			port := flowMap()
			put(port, "network", str(net))
			if untagged {
				put(port, "address", str(L2Addr(as.Number, n, 0, k+1).String()))
				rt.ospf = append(rt.ospf, str(base))
			}
			if len(tagged) > 0 {
				t := flowList()
				for _, v := range tagged {
					add(t, num(v))
				}
				put(port, "trunk", t)
			}
			w.iface(rt, base, port)
			for _, v := range tagged {
				sub := base + "." + strconv.Itoa(v)
				w.iface(rt, sub, addr(L2Addr(as.Number, n, v, k+1)))
				rt.ospf = append(rt.ospf, str(sub))
			}
		}
		count := map[int]int{}
		for _, h := range l2.Hosts {
			count[h.VLAN]++
			m := count[h.VLAN] + len(members)
			if m > 254 {
				w.fail("AS %d %s: more than 254 members on VLAN %d", as.Number, l2.Name, h.VLAN)
				return
			}
			node := L2HostNode(as.Number, h.Name)
			hn := put(w.nodes, node, mapping())
			put(hn, "group", num(as.Number))
			port := flowMap()
			put(port, "network", str(net))
			if h.VLAN != 0 {
				put(port, "vlan", num(h.VLAN))
			}
			if !h.NoAddress {
				put(port, "address", str(L2Addr(as.Number, n, h.VLAN, m).String()))
			}
			put(put(hn, "interfaces", mapping()), "eth0", port)
			if as.Configured && !h.NoAddress && len(members) > 0 {
				put(hn, "gateway", str(L2Addr(as.Number, n, h.VLAN, 1).Addr().String()))
			}
		}
	}
}
