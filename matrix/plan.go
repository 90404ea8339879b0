// Package matrix is the connectivity matrix of a class-wide Internet: it
// takes one host of every AS (a group of the lab file), pings from each to
// every other, and judges each path by the AS path that the source host's
// router holds for the destination against the Gao–Rexford (valley-free)
// rules, with the customer, provider and peer relations of the lab file.
// Plan reads the lab; Run measures it through the Net a caller gives.
package matrix

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"

	"github.com/netlab/netlab/spec"
)

// AS is one AS of the matrix: the host it pings from and is pinged at,
// and the router whose BGP table says which way its traffic goes.
type AS struct {
	Group  string     // the nodes' group
	Number int        // its BGP AS number (0: none known)
	Host   string     // the host pinged from and to
	Addr   netip.Addr // the host's address
	Router string     // the host's gateway router ("" if the group has none with BGP)
}

// Plan is what a matrix run measures: the ASes, and the relations to judge
// paths with.
type Plan struct {
	ASes []AS
	rel  relations
}

// Relation says what AS b is to AS a: spec.RelationCustomer, Peer or
// Provider; "" if the lab file gives no relation between them.
func (p *Plan) Relation(a, b int) string { return p.rel.of(a, b) }

// NewPlan picks one host of every group that has one (a node with a
// gateway and an IPv4 address, the first by name) and its router, and
// gathers the BGP relations of the lab file. It fails if fewer than two
// groups have a host.
func NewPlan(l *spec.Lab) (*Plan, error) {
	p := &Plan{rel: gatherRelations(l)}
	byGroup := map[string][]*spec.Node{}
	for _, n := range l.SortedNodes() {
		if n.Group != "" {
			byGroup[n.Group] = append(byGroup[n.Group], n)
		}
	}
	for group, nodes := range byGroup {
		as, ok := pickAS(group, nodes)
		if ok {
			p.ASes = append(p.ASes, as)
		}
	}
	sort.Slice(p.ASes, func(i, j int) bool { return spec.CompareGroups(p.ASes[i].Group, p.ASes[j].Group) < 0 })
	if len(p.ASes) < 2 {
		return nil, fmt.Errorf("lab %s has %d groups with a host: a matrix needs nodes with group: (the AS) in two groups or more, each with a host that has a gateway", l.Name, len(p.ASes))
	}
	return p, nil
}

// pickAS chooses the group's host and its router.
func pickAS(group string, nodes []*spec.Node) (AS, bool) {
	as := AS{Group: group}
	for _, n := range nodes {
		if r := n.Routing; r != nil && r.BGP != nil && as.Number == 0 {
			as.Number = int(r.BGP.AS)
		}
	}
	if as.Number == 0 {
		as.Number, _ = strconv.Atoi(group) // a student AS: the mini-Internet numbers groups by AS
	}
	var host *spec.Node
	for _, n := range nodes {
		if a := n.HostAddr(); len(n.Gateway) > 0 && a.Is4() && (n.Routing == nil || n.Routing.BGP == nil) {
			host, as.Host, as.Addr = n, n.Name, a
			break
		}
	}
	if host == nil {
		return as, false
	}
	gw, _ := netip.ParseAddr(host.Gateway[0])
	for _, n := range nodes {
		if n.Routing == nil || n.Routing.BGP == nil {
			continue
		}
		if as.Router == "" || owns(n, gw) {
			as.Router = n.Name
		}
		if owns(n, gw) {
			break
		}
	}
	return as, true
}

func owns(n *spec.Node, a netip.Addr) bool {
	for _, i := range n.Interfaces {
		for _, p := range i.Addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

// relations are what one AS is to another, and the route servers' ASes,
// which do not count as hops of a path.
type relations struct {
	of2     map[[2]int]string
	servers map[int]bool
}

func (r relations) of(a, b int) string { return r.of2[[2]int{a, b}] }

// gatherRelations reads the relations of every eBGP neighbor: a's
// neighbor b with relation customer makes b a's customer and a b's
// provider (the first word said wins). Two members of one route server
// are peers unless a relation of their own says otherwise.
func gatherRelations(l *spec.Lab) relations {
	r := relations{of2: map[[2]int]string{}, servers: map[int]bool{}}
	members := map[int][]int{} // route server AS -> member ASes
	set := func(a, b int, rel string) {
		if _, ok := r.of2[[2]int{a, b}]; !ok && a != b {
			r.of2[[2]int{a, b}] = rel
		}
	}
	for _, n := range l.SortedNodes() {
		if n.Routing == nil || n.Routing.BGP == nil {
			continue
		}
		me := int(n.Routing.BGP.AS)
		for _, nb := range n.Routing.BGP.Neighbors {
			them := int(nb.AS)
			switch nb.Relation {
			case spec.RelationCustomer, spec.RelationPeer, spec.RelationProvider:
				set(me, them, nb.Relation)
				set(them, me, inverse(nb.Relation))
			case spec.RelationRouteServer:
				r.servers[them] = true
				members[them] = append(members[them], me)
			case spec.RelationRSClient:
				r.servers[me] = true
				members[me] = append(members[me], them)
			}
		}
	}
	for _, ms := range members {
		slices.Sort(ms)
		ms = slices.Compact(ms)
		for _, a := range ms {
			for _, b := range ms {
				set(a, b, spec.RelationPeer)
			}
		}
	}
	return r
}

func inverse(rel string) string {
	switch rel {
	case spec.RelationCustomer:
		return spec.RelationProvider
	case spec.RelationProvider:
		return spec.RelationCustomer
	}
	return rel
}
