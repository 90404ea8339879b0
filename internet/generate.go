package internet

import (
	"fmt"
	"strings"
)

// Options shape a generated Internet.
type Options struct {
	Name    string // the lab's name (default "internet")
	ASes    int    // all ASes: tier-1, transit and stub (numbered 1, 2, ...)
	Tier1   int    // tier-1 ASes, peering in a full mesh (default 1, 2 from 4 ASes)
	Routers int    // routers in every AS, in a ring, each with a host (default 2)
	IXPs    int    // IXPs, each with a route server (numbered 80, 81, ...)
	// NoConfig leaves the transit and stub ASes for students: interfaces
	// and addresses, no routing (the tier-1 ASes and route servers run).
	NoConfig bool
}

// Limits of a generated Internet.
const (
	MaxGeneratedASes = 126 // AS N owns N.0.0.0/8: below 127
	MaxIXPs          = 20
)

// routerNames are the mini-Internet's cities, then R9, R10, ...
var routerNames = []string{"ZURI", "BASE", "GENE", "LUGA", "MUNI", "LYON", "VIEN", "MILA"}

func routerName(i int) string {
	if i < len(routerNames) {
		return routerNames[i]
	}
	return fmt.Sprintf("R%d", i+1)
}

// Generate writes a class-wide Internet as a lab file: the tier-1 ASes
// peer in a full mesh; about half of the others are transit ASes, each a
// customer of two tier-1s and a peer of the next transit; the rest are
// stubs, each a customer of two transits (or tier-1s); every IXP has a
// route server and some of the transit and stub ASes as members.
func Generate(o Options) ([]byte, error) {
	in, err := Build(o)
	if err != nil {
		return nil, err
	}
	return Lab(in)
}

// Build makes the Internet that Generate writes.
func Build(o Options) (*Internet, error) {
	if o.Name == "" {
		o.Name = "internet"
	}
	if o.Routers == 0 {
		o.Routers = 2
	}
	if o.Tier1 == 0 {
		o.Tier1 = 1
		if o.ASes >= 4 {
			o.Tier1 = 2
		}
	}
	switch {
	case o.ASes < 2 || o.ASes > MaxGeneratedASes:
		return nil, fmt.Errorf("generate an Internet: %d ASes; give 2 to %d", o.ASes, MaxGeneratedASes)
	case o.Tier1 < 1 || o.Tier1 >= o.ASes:
		return nil, fmt.Errorf("generate an Internet: %d tier-1 ASes of %d; give at least 1, and fewer than all", o.Tier1, o.ASes)
	case o.Routers < 1 || o.Routers > MaxRouters:
		return nil, fmt.Errorf("generate an Internet: %d routers an AS; give 1 to %d", o.Routers, MaxRouters)
	case o.IXPs < 0 || o.IXPs > MaxIXPs:
		return nil, fmt.Errorf("generate an Internet: %d IXPs; give 0 to %d", o.IXPs, MaxIXPs)
	case o.IXPs > 0 && o.ASes-o.Tier1 < 1:
		return nil, fmt.Errorf("generate an Internet: IXPs need an AS that is not tier-1")
	}
	rest := o.ASes - o.Tier1
	transits := (rest + 1) / 2
	if rest < 2 {
		transits = 0
	}
	stubs := rest - transits
	in := &Internet{Name: o.Name}
	next := make([]int, o.ASes+1) // the router each AS uses for its next external link
	pick := func(as int) string {
		r := routerName(next[as] % o.Routers)
		next[as]++
		return r
	}
	kind := func(n int) string {
		switch {
		case n <= o.Tier1:
			return "tier-1"
		case n <= o.Tier1+transits:
			return "transit"
		}
		return "stub"
	}
	relations := map[int][]string{}
	link := func(provider, customer int, rel string) {
		in.Links = append(in.Links, &Link{A: provider, B: customer, RouterA: pick(provider), RouterB: pick(customer), RelB: rel, Subnet: ExternalSubnet(provider, customer)})
		if rel == "peer" {
			relations[provider] = append(relations[provider], fmt.Sprintf("peer of %d", customer))
			relations[customer] = append(relations[customer], fmt.Sprintf("peer of %d", provider))
		} else {
			relations[customer] = append(relations[customer], fmt.Sprintf("customer of %d", provider))
		}
	}
	for a := 1; a <= o.Tier1; a++ {
		for b := a + 1; b <= o.Tier1; b++ {
			link(a, b, "peer")
		}
	}
	providers := func(first, count, k int) []int {
		if count == 1 {
			return []int{first}
		}
		return []int{first + k%count, first + (k+1)%count}
	}
	for k := 0; k < transits; k++ {
		t := o.Tier1 + 1 + k
		for _, p := range providers(1, o.Tier1, k) {
			link(p, t, "customer")
		}
		if transits > 2 || (transits == 2 && k == 0) {
			link(t, o.Tier1+1+(k+1)%transits, "peer")
		}
	}
	for k := 0; k < stubs; k++ {
		s := o.Tier1 + transits + 1 + k
		first, count := o.Tier1+1, transits
		if transits == 0 {
			first, count = 1, o.Tier1
		}
		for _, p := range providers(first, count, k) {
			link(p, s, "customer")
		}
	}
	for k := 0; k < o.IXPs; k++ {
		x := &IXP{Number: 80 + k, Configured: true}
		if o.ASes >= 80 {
			x.Number = o.ASes + 1 + k
		}
		for n := o.Tier1 + 1; n <= o.ASes; n++ {
			if (n-o.Tier1-1)%o.IXPs == k {
				x.Members = append(x.Members, IXPMember{AS: n, Router: pick(n)})
			}
		}
		t1 := 1 + k%o.Tier1
		x.Members = append(x.Members, IXPMember{AS: t1, Router: pick(t1)})
		in.IXPs = append(in.IXPs, x)
		for _, m := range x.Members {
			relations[m.AS] = append(relations[m.AS], fmt.Sprintf("at IXP %d", x.Number))
		}
	}
	for n := 1; n <= o.ASes; n++ {
		as := &AS{Number: n, Configured: !o.NoConfig || n <= o.Tier1}
		as.Comment = fmt.Sprintf("AS %d (%s, %s): %s", n, kind(n), configured(as.Configured), strings.Join(relations[n], ", "))
		for i := 0; i < o.Routers; i++ {
			as.Routers = append(as.Routers, &Router{Name: routerName(i), Index: i, Hosts: []int{i}, HostIfaces: []string{"host"}})
		}
		for i := 0; i+1 < o.Routers; i++ {
			as.Internal = append(as.Internal, [2]int{i, i + 1})
		}
		if o.Routers > 2 {
			as.Internal = append(as.Internal, [2]int{o.Routers - 1, 0})
		}
		in.ASes = append(in.ASes, as)
	}
	first, last := in.ASes[0], in.ASes[len(in.ASes)-1]
	in.Checks = [][2]string{{HostNode(last.Number, routerName(0), "host"), HostNode(first.Number, routerName(0), "host")}}
	if len(in.ASes) > 2 {
		mid := in.ASes[o.Tier1]
		in.Checks = append(in.Checks, [2]string{HostNode(last.Number, routerName(0), "host"), HostNode(mid.Number, routerName(0), "host")})
	}
	in.Header = []string{
		fmt.Sprintf("A class-wide Internet of %d ASes (%d tier-1, %d transit, %d stub) and %d IXPs,", o.ASes, o.Tier1, transits, stubs, o.IXPs),
		fmt.Sprintf("%d routers an AS, each with a host; written by netlab (netlab new internet).", o.Routers),
		"",
		"Addresses follow ETH Zürich's mini-Internet: AS N announces N.0.0.0/8;",
		"router i's loopback is N.(151+i).0.1, its host's subnet N.(101+i).0.0/24",
		"(host .1, router .2); the AS's k-th internal link is N.0.k.0/24; the link",
		"between ASes A and B is 179.A.B.0/24 (A at .A, B at .B); IXP X's network",
		"is 180.X.0.0/24, its route server at 180.X.0.X, member N at 180.X.0.N.",
		"",
		"Routing: OSPF inside each AS, iBGP between loopbacks (full mesh), eBGP",
		"with relations: routes from a customer are tagged N:10 (local-pref 100),",
		"from a peer or route server N:20 (50), from a provider N:30 (20); peers",
		"and providers get only the AS's own prefix and its customers' routes.",
		"",
		"Try:  netlab exec " + o.Name + " " + RouterNode(last.Number, routerName(0)) + " -- vtysh -c 'show bgp summary'",
		"      netlab exec " + o.Name + " " + in.Checks[0][0] + " -- traceroute -n " + HostAddr(first.Number, 0).Addr().String(),
	}
	return in, nil
}

func configured(c bool) string {
	if c {
		return "configured"
	}
	return "for students to configure"
}
