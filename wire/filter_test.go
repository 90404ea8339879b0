package wire

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/netlab/netlab/planner"
)

func TestFirewallRules(t *testing.T) {
	p := netip.MustParsePrefix
	rules := firewallRules(&planner.Firewall{Input: "drop", Forward: "accept", Output: "accept", Rules: []planner.FirewallRule{
		{Chain: "input", Action: "accept", Proto: "tcp", PortMin: 22, PortMax: 22, Families: []int{4, 6}},
		{Chain: "forward", Action: "reject", Proto: "tcp", PortMin: 8000, PortMax: 8080, In: "eth1",
			From: []netip.Prefix{p("10.0.0.0/8"), p("fd00::/8"), p("192.168.1.1/32")}, To: []netip.Prefix{p("10.1.1.1/32")}, Families: []int{4}},
	}})
	// input: 3 fixed rules + one per family; forward: 1 fixed + 2 IPv4 sources x 1 destination.
	if len(rules["input"]) != 5 || len(rules["forward"]) != 3 || len(rules["output"]) != 3 {
		t.Fatalf("rules per chain: input %d, forward %d, output %d", len(rules["input"]), len(rules["forward"]), len(rules["output"]))
	}
	fwd := rules["forward"][1]
	if r, ok := fwd[len(fwd)-1].(*expr.Reject); !ok || r.Type != 1 /* NFT_REJECT_TCP_RST */ {
		t.Errorf("a rejected TCP rule ends with %#v, want a TCP reset", fwd[len(fwd)-1])
	}
	var sawMask, sawRange bool
	for _, e := range fwd {
		if b, ok := e.(*expr.Bitwise); ok && bytes.Equal(b.Mask, []byte{255, 0, 0, 0}) {
			sawMask = true
		}
		if r, ok := e.(*expr.Range); ok && bytes.Equal(r.FromData, []byte{0x1f, 0x40}) && bytes.Equal(r.ToData, []byte{0x1f, 0x90}) {
			sawRange = true
		}
	}
	if !sawMask || !sawRange {
		t.Errorf("10.0.0.0/8 mask seen %v, port range 8000-8080 seen %v", sawMask, sawRange)
	}
}

func TestIsolationRules(t *testing.T) {
	table := &nftables.Table{Family: nftables.TableFamilyBridge, Name: "netlab-x"}
	sets, elems, rules := isolationRules(&planner.Isolate{Table: table.Name, Networks: []planner.IsolatedNetwork{{
		Network: "dmz", Members: []string{"p1", "p2", "p3"},
		Allow: []planner.AllowRule{{From: []string{"p1"}, To: []string{"p3"}, Proto: "tcp", PortMin: 80, PortMax: 80}, {From: []string{"p2"}}},
	}}}, table)
	if len(sets) != 1 || len(elems[0]) != 3 {
		t.Fatalf("sets %d, members %d", len(sets), len(elems[0]))
	}
	// p1->p3 tcp/80: 2 families x 2 directions; p2 -> p1, p3 any: 2 peers x 2 families x 2 directions;
	// then neighbour discovery and the two drops.
	if want := 4 + 8 + 3; len(rules) != want {
		t.Errorf("%d rules, want %d", len(rules), want)
	}
	last := rules[len(rules)-1]
	if v, ok := last[len(last)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
		t.Errorf("the last rule does not drop: %#v", last)
	}
}
