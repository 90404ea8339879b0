package frr

import (
	"slices"
	"strings"

	"github.com/netlab/netlab/spec"
)

// The customer/peer/provider policy of BGP neighbors with a relation: a
// route-map in tags what a neighbor sends with a community of the node's AS
// and sets its local preference; a route-map out sends a customer every
// route and anyone else only the node's own networks and what customers
// sent (the routes tagged AS:10, also when learned over iBGP).
var relationIn = map[string]struct {
	community string
	pref      int
}{
	spec.RelationCustomer:    {"10", 100},
	spec.RelationPeer:        {"20", 50},
	spec.RelationRouteServer: {"20", 50},
	spec.RelationProvider:    {"30", 20},
}

// Names of the policy's objects in frr.conf.
const (
	ownPrefixes    = "OWN_PREFIXES"
	customerRoutes = "CUSTOMER_ROUTES"
	toCustomer     = "TO_CUSTOMER"
	toOthers       = "TO_PEER_OR_PROVIDER"
)

func inMap(relation string) string { return "FROM_" + strings.ToUpper(relation) }

// relationLines are a neighbor's lines in its address family: its
// route-maps, or route-server-client for a route server's client.
func relationLines(nb *spec.BGPNeighbor) []string {
	switch nb.Relation {
	case "":
		return nil
	case spec.RelationRSClient:
		return []string{"  neighbor " + nb.Address + " route-server-client"}
	}
	out := toOthers
	if nb.Relation == spec.RelationCustomer {
		out = toCustomer
	}
	return []string{
		"  neighbor " + nb.Address + " route-map " + inMap(nb.Relation) + " in",
		"  neighbor " + nb.Address + " route-map " + out + " out",
	}
}

// policies writes the prefix list, community list and route-maps that the
// speaker's neighbors' relations use, once each.
func policies(w func(string, ...any), g *spec.BGP) {
	used := map[string]bool{}
	for _, nb := range g.Neighbors {
		if _, ok := relationIn[nb.Relation]; ok {
			used[nb.Relation] = true
		}
	}
	if len(used) == 0 {
		return
	}
	seq := 5
	for _, p := range g.Prefixes {
		if p.Addr().Is4() {
			w("ip prefix-list %s seq %d permit %s", ownPrefixes, seq, p)
			seq += 5
		}
	}
	if seq == 5 { // no networks of its own: the list matches nothing
		w("ip prefix-list %s seq 5 deny any", ownPrefixes)
	}
	w("bgp community-list standard %s seq 5 permit %d:10", customerRoutes, g.AS)
	w("!")
	for _, rel := range []string{spec.RelationCustomer, spec.RelationPeer, spec.RelationRouteServer, spec.RelationProvider} {
		if !used[rel] {
			continue
		}
		in := relationIn[rel]
		w("route-map %s permit 10", inMap(rel))
		w(" set community %d:%s", g.AS, in.community)
		w(" set local-preference %d", in.pref)
		w("exit")
		w("!")
	}
	if used[spec.RelationCustomer] {
		w("route-map %s permit 10", toCustomer)
		w("exit")
		w("!")
	}
	if slices.ContainsFunc([]string{spec.RelationPeer, spec.RelationRouteServer, spec.RelationProvider}, func(r string) bool { return used[r] }) {
		w("route-map %s permit 5", toOthers)
		w(" match ip address prefix-list %s", ownPrefixes)
		w("exit")
		w("route-map %s permit 10", toOthers)
		w(" match community %s", customerRoutes)
		w("exit")
		w("!")
	}
}

// loopback writes the loopback's address, in OSPF's default area when the
// node runs OSPF (passive: no neighbour is behind lo).
func loopback(w func(string, ...any), r *spec.Routing) {
	if !r.LoopbackAddr.IsValid() {
		return
	}
	w("interface lo")
	w(" ip address %s", r.LoopbackAddr)
	if o := r.OSPF; o != nil {
		area := o.Area
		if area == "" && len(o.Interfaces) > 0 {
			area = o.Interfaces[0].Area
		}
		a, ok := spec.ParseArea(area)
		if !ok {
			a = "0.0.0.0"
		}
		w(" ip ospf area %s", a)
		w(" ip ospf passive")
	}
	w("exit")
	w("!")
}
