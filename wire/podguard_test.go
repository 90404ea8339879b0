package wire

import (
	"net/netip"
	"strings"
	"testing"
)

// The pod guard and the span guard, written in a scratch namespace: the
// kernel takes their expressions, their peers and hosts are kept, and a
// second write changes nothing.
func TestGuardsInNamespace(t *testing.T) {
	needRoot(t)
	ns, path := scratchNSPath(t, "guards")
	if changed, err := EnsurePodGuard(ns); err != nil || !changed {
		t.Fatalf("EnsurePodGuard: changed %v, %v", changed, err)
	}
	for _, p := range []string{"198.19.2.8", "fd00::8", "198.19.2.8"} {
		if err := AllowTunnelPeer(ns, netip.MustParseAddr(p)); err != nil {
			t.Fatalf("AllowTunnelPeer %s: %v", p, err)
		}
	}
	if changed, err := EnsurePodGuard(ns); err != nil || changed {
		t.Errorf("EnsurePodGuard again: changed %v, %v", changed, err)
	}
	out := inNS(t, path, "nft", "list", "table", "inet", "netlab-pod")
	for _, want := range []string{"198.19.2.8", "fd00::8", `iifname "pod0" drop`, "udp dport 4789"} {
		if !strings.Contains(out, want) {
			t.Errorf("the pod guard lacks %q:\n%s", want, out)
		}
	}

	// The span guard is the host's; here the scratch namespace's.
	for _, h := range []string{"198.18.250.11", "198.18.250.12"} {
		if err := EnsureSpanGuard(ns, []netip.Addr{netip.MustParseAddr(h)}); err != nil {
			t.Fatalf("EnsureSpanGuard: %v", err)
		}
	}
	out = inNS(t, path, "nft", "list", "table", "inet", SpanGuardTable)
	for _, want := range []string{"198.18.250.11", "198.18.250.12", "fib saddr . iif oif", "drop"} {
		if !strings.Contains(out, want) {
			t.Errorf("the span guard lacks %q:\n%s", want, out)
		}
	}
	for i := 0; i < 2; i++ { // none is success
		if err := RemoveSpanGuard(ns); err != nil {
			t.Fatalf("RemoveSpanGuard: %v", err)
		}
	}
	if out := inNS(t, path, "nft", "list", "tables"); strings.Contains(out, SpanGuardTable) {
		t.Errorf("the span guard is left:\n%s", out)
	}
}
