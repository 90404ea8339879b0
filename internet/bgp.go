package internet

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// neighbor is an eBGP session's entry under bgp.neighbors.
func neighbor(address string, as int, relation, description string) *yaml.Node {
	m := flowMap()
	put(m, "address", str(address))
	put(m, "as", num(as))
	if relation != "" {
		put(m, "relation", str(relation))
	}
	put(m, "description", str(description))
	return m
}

// external adds the links between ASes, with an eBGP session over each.
func (w *writer) external() {
	for _, l := range w.in.Links {
		a, b := w.router(l.A, l.RouterA), w.router(l.B, l.RouterB)
		switch {
		case a == nil:
			w.fail("link AS %d-%d: AS %d has no router %s", l.A, l.B, l.A, l.RouterA)
			continue
		case b == nil:
			w.fail("link AS %d-%d: AS %d has no router %s", l.A, l.B, l.B, l.RouterB)
			continue
		case l.A == l.B:
			w.fail("link AS %d-%d joins an AS to itself: routers of one AS are joined in its own links file", l.A, l.B)
			continue
		case !l.Subnet.Addr().Is4() || l.Subnet.Bits() != 24:
			w.fail("link AS %d-%d: subnet %s is not an IPv4 /24", l.A, l.B, l.Subnet)
			continue
		case l.RelB != "customer" && l.RelB != "peer" && l.RelB != "provider":
			w.fail("link AS %d-%d: relation %q is not customer, peer or provider", l.A, l.B, l.RelB)
			continue
		}
		ia, ib := fmt.Sprintf("ext_%d_%s", l.B, l.RouterB), fmt.Sprintf("ext_%d_%s", l.A, l.RouterA)
		ea, eb := EndAddr(l.Subnet, l.A), EndAddr(l.Subnet, l.B)
		w.iface(a, ia, addr(ea))
		w.iface(b, ib, addr(eb))
		a.ebgp = append(a.ebgp, neighbor(eb.Addr().String(), l.B, l.RelB, fmt.Sprintf("AS %d %s, our %s", l.B, l.RouterB, l.RelB)))
		b.ebgp = append(b.ebgp, neighbor(ea.Addr().String(), l.A, Inverse(l.RelB), fmt.Sprintf("AS %d %s, our %s", l.A, l.RouterA, Inverse(l.RelB))))
		add(w.links, strList(a.node+":"+ia, b.node+":"+ib))
	}
}

// ixps adds each IXP: its network, its route server, its members' ports
// and their sessions with the route server.
func (w *writer) ixps(networks *yaml.Node) {
	isAS := map[int]bool{}
	for _, as := range w.in.ASes {
		isAS[as.Number] = true
	}
	for _, x := range w.in.IXPs {
		if msg := CheckIXP(x.Number); msg != "" {
			w.fail("%s", msg)
			continue
		}
		if isAS[x.Number] {
			w.fail("IXP %d has the number of an AS: the route server speaks BGP as AS %d", x.Number, x.Number)
			continue
		}
		net := IXPNetwork(x.Number)
		nw := put(networks, net, flowMap())
		put(nw, "subnet", str(IXPAddr(x.Number, 0).Masked().String()))
		networks.Content[len(networks.Content)-2].HeadComment = fmt.Sprintf("# IXP %d, route server %s", x.Number, RouteServerNode(x.Number))
		rs := put(w.nodes, RouteServerNode(x.Number), mapping())
		w.nodes.Content[len(w.nodes.Content)-2].HeadComment = fmt.Sprintf("# IXP %d's route server: it passes routes between its members, adding no AS of its own.", x.Number)
		put(rs, "image", str(RouterImage))
		put(rs, "forward", yes())
		put(rs, "group", num(x.Number))
		port := flowMap()
		put(port, "network", str(net))
		put(port, "address", str(IXPAddr(x.Number, x.Number).String()))
		put(put(rs, "interfaces", mapping()), "eth0", port)
		clients := list()
		seen := map[int]bool{}
		for _, m := range x.Members {
			rt := w.router(m.AS, m.Router)
			if rt == nil {
				w.fail("IXP %d: AS %d has no router %s", x.Number, m.AS, m.Router)
				continue
			}
			if seen[m.AS] {
				w.fail("IXP %d: AS %d joins twice", x.Number, m.AS)
				continue
			}
			seen[m.AS] = true
			ifname := "ixp_" + strconv.Itoa(x.Number)
			p := flowMap()
			put(p, "network", str(net))
			put(p, "address", str(IXPAddr(x.Number, m.AS).String()))
			w.iface(rt, ifname, p)
			rt.ebgp = append(rt.ebgp, neighbor(IXPAddr(x.Number, x.Number).Addr().String(), x.Number, "route_server", fmt.Sprintf("IXP %d route server", x.Number)))
			add(clients, neighbor(IXPAddr(x.Number, m.AS).Addr().String(), m.AS, "rs_client", fmt.Sprintf("AS %d %s", m.AS, m.Router)))
		}
		if x.Configured && len(clients.Content) > 0 {
			r := put(rs, "routing", mapping())
			put(r, "router_id", str(IXPAddr(x.Number, x.Number).Addr().String()))
			b := put(r, "bgp", mapping())
			put(b, "as", num(x.Number))
			put(b, "neighbors", clients)
		}
	}
}

// routing adds each configured AS's routers' routing: a loopback, OSPF
// on every internal interface, iBGP between loopbacks (full mesh), and
// eBGP with each neighbor AS and route server, policies by relation.
func (w *writer) routing() {
	for _, rt := range w.order {
		as := rt.as
		if !as.Configured {
			continue
		}
		node := w.nodes.Content[indexOf(w.nodes, rt.node)]
		r := put(node, "routing", mapping())
		lo := Loopback(as.Number, rt.r.Index)
		put(r, "router_id", str(lo.Addr().String()))
		put(r, "loopback", str(lo.String()))
		if len(rt.ospf) > 0 {
			o := put(r, "ospf", mapping())
			put(o, "area", num(0))
			ifs := put(o, "interfaces", flowList())
			ifs.Content = rt.ospf
			if len(rt.passive) > 0 {
				put(o, "passive", strList(rt.passive...))
			}
		}
		b := put(r, "bgp", mapping())
		put(b, "as", num(as.Number))
		put(b, "networks", strList(Aggregate(as.Number).String()))
		nbs := list()
		for _, o := range as.Routers {
			if o == rt.r {
				continue
			}
			m := flowMap()
			put(m, "address", str(Loopback(as.Number, o.Index).Addr().String()))
			put(m, "as", num(as.Number))
			put(m, "update_source", str("lo"))
			put(m, "next_hop_self", yes())
			put(m, "description", str("iBGP "+o.Name))
			add(nbs, m)
		}
		nbs.Content = append(nbs.Content, rt.ebgp...)
		if len(nbs.Content) > 0 {
			put(b, "neighbors", nbs)
		}
	}
}

// indexOf finds the value of key k in mapping m.
func indexOf(m *yaml.Node, k string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return i + 1
		}
	}
	return -1
}
