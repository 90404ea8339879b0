package wire

import (
	"testing"

	"github.com/google/nftables/expr"
)

// The guard's base chains: a jump to the labs' rules first, then one
// drop per netlab prefix (input) and two per prefix (forward).
func TestGuardRules(t *testing.T) {
	input, forward := guardRules()
	if len(input) != 1+len(guardPrefixes) || len(forward) != 1+2*len(guardPrefixes) {
		t.Fatalf("%d input and %d forward rules", len(input), len(forward))
	}
	for _, chain := range [][][]expr.Any{input, forward} {
		if v, ok := chain[0][0].(*expr.Verdict); !ok || v.Kind != expr.VerdictJump {
			t.Errorf("the first rule is not a jump to the labs' rules: %#v", chain[0])
		}
		for _, r := range chain[1:] {
			if v, ok := r[len(r)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
				t.Errorf("a guard rule that does not drop: %#v", r)
			}
		}
	}
	// A prefix is compared on its own bytes: nft's "nlb*".
	if c := input[1][1].(*expr.Cmp); string(c.Data) != "nlb" {
		t.Errorf("the bridge prefix is compared as %q", c.Data)
	}
}

// A lab bridge's rules compare whole names (NUL-padded), both ways.
func TestBridgeRules(t *testing.T) {
	r := bridgeRules("nlb0123456789")
	if len(r) != 2 {
		t.Fatalf("%d rules", len(r))
	}
	for _, rule := range r {
		eq, ne := rule[1].(*expr.Cmp), rule[3].(*expr.Cmp)
		if eq.Op != expr.CmpOpEq || ne.Op != expr.CmpOpNeq || string(eq.Data) != string(ifname("nlb0123456789")) || string(ne.Data) != string(eq.Data) {
			t.Errorf("rule %#v", rule)
		}
	}
	if p := publishedRules([]string{"nlbA", "nlrB"}, "tcp", 8080); len(p) != 2 {
		t.Errorf("%d published rules for two interfaces", len(p))
	}
}
