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
	// input: 4 fixed rules (the last a pod network's tunnels) + one per family;
	// forward: 1 fixed + 2 IPv4 sources x 1 destination; output: 4 fixed.
	if len(rules["input"]) != 6 || len(rules["forward"]) != 3 || len(rules["output"]) != 4 {
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

// A network spanning hosts: its members on other hosts are known by their
// MACs on the span; a member's frames leave by the span with its own MAC.
func TestIsolationRulesAcrossHosts(t *testing.T) {
	table := &nftables.Table{Family: nftables.TableFamilyBridge, Name: "netlab-x"}
	nw := planner.IsolatedNetwork{
		Network: "dmz", Members: []string{"p1", "p2", "p3"}, MACs: []string{"02:42:0a:00:00:01", "02:42:0a:00:00:02", "02:42:0A:00:00:03"},
		Allow: []planner.AllowRule{{From: []string{"p1"}, To: []string{"p3"}, Proto: "tcp", PortMin: 80, PortMax: 80}},
	}
	_, _, local := isolationRules(&planner.Isolate{Table: table.Name, Networks: []planner.IsolatedNetwork{nw}}, table)
	nw.Span = "nlsabcdef0123"
	sets, elems, rules := isolationRules(&planner.Isolate{Table: table.Name, Networks: []planner.IsolatedNetwork{nw}}, table)
	if len(sets) != 2 || len(elems[1]) != 3 || sets[1].KeyType != nftables.TypeEtherAddr {
		t.Fatalf("sets %d, want the members' ports and their MACs", len(sets))
	}
	if !bytes.Equal(elems[1][2].Key, []byte{2, 0x42, 10, 0, 0, 3}) {
		t.Errorf("p3's MAC in the set: % x", elems[1][2].Key)
	}
	if nw.MACs[2] != "02:42:0A:00:00:03" {
		t.Errorf("the plan's MAC was changed: %s", nw.MACs[2])
	}
	// One rule per member holding its MAC at the span; the allow rule's 4
	// made again for frames from the span; the drops again for them.
	if want := len(local) + 3 + 4 + 3; len(rules) != want {
		t.Errorf("%d rules, want %d", len(rules), want)
	}
	first := rules[0]
	if c, ok := first[len(first)-2].(*expr.Cmp); !ok || c.Op != expr.CmpOpNeq || !bytes.Equal(c.Data, []byte{2, 0x42, 10, 0, 0, 1}) {
		t.Errorf("the first rule does not hold p1 to its MAC: %#v", first)
	}
	var fromSpan int
	for _, r := range rules {
		for _, e := range r {
			if c, ok := e.(*expr.Cmp); ok && bytes.Equal(c.Data, ifname(nw.Span)) {
				fromSpan++
				break
			}
		}
	}
	if fromSpan != 3+4+3 {
		t.Errorf("%d rules name the span, want %d", fromSpan, 3+4+3)
	}
}

// The pod guard: answers, then tunnels from the peers, then nothing more,
// on the pod network's interface only.
func TestPodGuardRules(t *testing.T) {
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: "netlab-pod"}
	sets := podGuardSets(table)
	rules := podGuardRules(sets)
	if len(rules) != 4 {
		t.Fatalf("%d rules, want 4", len(rules))
	}
	for i, r := range rules {
		if c, ok := r[1].(*expr.Cmp); !ok || !bytes.Equal(c.Data, ifname("pod0")) {
			t.Errorf("rule %d does not match pod0 first: %#v", i, r[:2])
		}
	}
	for i, set := range []string{"peers4", "peers6"} {
		var looked bool
		for _, e := range rules[i+1] {
			if l, ok := e.(*expr.Lookup); ok && l.SetName == set {
				looked = true
			}
		}
		if !looked {
			t.Errorf("rule %d does not look the source up in %s", i+1, set)
		}
	}
	last := rules[3]
	if v, ok := last[len(last)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
		t.Errorf("the last rule does not drop: %#v", last)
	}
}

// The span guard: spans' VXLAN (a VNI with its top bit set) from the
// hosts only, on the way back to them; none forwarded.
func TestSpanGuardRules(t *testing.T) {
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: SpanGuardTable}
	input, forward := spanGuardRules(spanGuardSets(table))
	if len(input) != 3 || len(forward) != 1 {
		t.Fatalf("input %d rules, forward %d; want 3 and 1", len(input), len(forward))
	}
	var fib, mask bool
	for _, e := range input[0] {
		if f, ok := e.(*expr.Fib); ok && f.FlagSADDR && f.FlagIIF && f.ResultOIF {
			fib = true
		}
		if b, ok := e.(*expr.Bitwise); ok && bytes.Equal(b.Mask, []byte{0x80}) {
			mask = true
		}
	}
	if !fib || !mask {
		t.Errorf("the hosts' rule: reverse path %v, VNI's top bit %v", fib, mask)
	}
	for _, r := range [][]expr.Any{input[2], forward[0]} {
		if v, ok := r[len(r)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
			t.Errorf("not a drop: %#v", r)
		}
	}
}
