package lab

import (
	"net/netip"
	"testing"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/planner"
)

// A repair's link made again between a restarted node (released) and a
// running one: the running node's end, with its addresses and routes, is
// given its addresses again; the restarted node's is not; a link found in
// place is not either.
func TestRemadeEnds(t *testing.T) {
	a := &planner.Addr{Iface: "port_ZURI", Addrs: []netip.Prefix{netip.MustParsePrefix("1.0.1.2/24")}}
	z := &planner.Addr{Iface: "port_BASE", Addrs: []netip.Prefix{netip.MustParsePrefix("1.0.1.1/24")}}
	route := &planner.Route{Dst: netip.MustParsePrefix("0.0.0.0/0")}
	steps := []Event{
		{Kind: EventStep, Outcome: apply.Changed, Step: &planner.Step{Kind: planner.KindLink,
			Veth: &planner.Veth{A: planner.VethEnd{Node: "zuri", Name: "port_BASE"}, B: planner.VethEnd{Node: "base", Name: "port_ZURI"}}}},
		{Kind: EventStep, Outcome: apply.Unchanged, Step: &planner.Step{Kind: planner.KindLink,
			Veth: &planner.Veth{A: planner.VethEnd{Node: "zuri", Name: "ext"}, B: planner.VethEnd{Node: "peer", Name: "ext"}}}},
		{Kind: EventStep, Outcome: apply.Changed, Step: &planner.Step{Kind: planner.KindAddr, Node: "base", Addr: a}},
		{Kind: EventStep, Outcome: apply.Changed, Step: &planner.Step{Kind: planner.KindAddr, Node: "zuri", Addr: z}},
		{Kind: EventStep, Outcome: apply.Unchanged, Step: &planner.Step{Kind: planner.KindAddr, Node: "peer",
			Addr: &planner.Addr{Iface: "ext", Addrs: []netip.Prefix{netip.MustParsePrefix("9.9.9.9/24")}}}},
		{Kind: EventStep, Outcome: apply.Unchanged, Step: &planner.Step{Kind: planner.KindRoute, Node: "base", Route: route}},
		{Kind: EventStep, Outcome: apply.Changed, Step: &planner.Step{Kind: planner.KindReady, Node: "zuri"}},
		{Kind: EventStep, Outcome: apply.Unchanged, Step: &planner.Step{Kind: planner.KindReady, Node: "base"}},
	}
	var r remade
	for _, e := range steps {
		r.event(e)
	}
	ends := r.ends()
	if len(ends) != 1 || ends["base"] == nil {
		t.Fatalf("ends %v, want base only", ends)
	}
	if got := ends["base"]; len(got.addrs) != 1 || got.addrs[0] != a || len(got.routes) != 1 || got.routes[0] != route {
		t.Errorf("base: %+v, want its port_ZURI address and its route", got)
	}
}
