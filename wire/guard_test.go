package wire

import (
	"slices"
	"testing"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The guard's base chains: jumps to the labs' rules first (published
// ports or bridges, then host links), then one drop per netlab prefix
// (input) and two per prefix (forward).
func TestGuardRules(t *testing.T) {
	input, forward := guardRules()
	if len(input) != 2+len(guardPrefixes) || len(forward) != 2+2*len(guardPrefixes) {
		t.Fatalf("%d input and %d forward rules", len(input), len(forward))
	}
	for _, chain := range [][][]expr.Any{input, forward} {
		for _, r := range chain[:2] {
			if v, ok := r[0].(*expr.Verdict); !ok || v.Kind != expr.VerdictJump {
				t.Errorf("a first rule is not a jump to the labs' rules: %#v", r)
			}
		}
		if v := chain[1][0].(*expr.Verdict); v.Chain != hostLinksInput && v.Chain != hostLinksForward {
			t.Errorf("the second jump is to %s, not the host links' chain", v.Chain)
		}
		for _, r := range chain[2:] {
			if v, ok := r[len(r)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
				t.Errorf("a guard rule that does not drop: %#v", r)
			}
		}
	}
	// A prefix is compared on its own bytes: nft's "nlb*".
	if c := input[2][1].(*expr.Cmp); string(c.Data) != "nlb" {
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

// A host link's rules: input from it to an address not its own (nor a
// broadcast or multicast one) drops; forwarding from or to it drops.
func TestHostLinkRules(t *testing.T) {
	input, forward := hostLinkRules("nlweb0")
	if len(input) != 1 || len(forward) != 2 {
		t.Fatalf("%d input and %d forward rules", len(input), len(forward))
	}
	in := input[0]
	if c := in[1].(*expr.Cmp); c.Op != expr.CmpOpEq || string(c.Data) != string(ifname("nlweb0")) {
		t.Errorf("input matches %#v", c)
	}
	if f, ok := in[2].(*expr.Fib); !ok || !f.FlagDADDR || !f.FlagIIF || !f.ResultADDRTYPE {
		t.Errorf("input does not ask the destination's type on the incoming interface: %#v", in[2])
	}
	var not []uint32
	for _, e := range in[3:6] {
		c := e.(*expr.Cmp)
		if c.Op != expr.CmpOpNeq {
			t.Errorf("%#v is no inequality", c)
		}
		not = append(not, binaryutil.NativeEndian.Uint32(c.Data))
	}
	if want := []uint32{unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_MULTICAST}; !slices.Equal(not, want) {
		t.Errorf("input drops types other than %v, want other than %v", not, want)
	}
	keys := []expr.MetaKey{expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME}
	for i, r := range append(input, forward...) {
		if v, ok := r[len(r)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
			t.Errorf("rule %d does not drop: %#v", i, r)
		}
		if i > 0 {
			if m := r[0].(*expr.Meta); m.Key != keys[i-1] || len(r) != 3 {
				t.Errorf("forward rule %d: %#v", i-1, r)
			}
		}
	}
}
