package naming

import (
	"strings"
	"testing"
)

func TestNamesFitAndDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, lab := range []string{"fopnp", "fopnp2", "a-very-long-lab-name-that-is-still-a-valid-label"} {
		for _, n := range []string{"homeA", "homeB", "exampleCOM"} {
			for _, name := range []string{Bridge(lab, n), Port(lab, n, "eth0")} {
				if len(name) > 15 {
					t.Errorf("%s is %d bytes", name, len(name))
				}
				if prev, dup := seen[name]; dup {
					t.Errorf("%s given twice (%s, %s/%s)", name, prev, lab, n)
				}
				seen[name] = lab + "/" + n
			}
		}
	}
	// Names are stable across runs and releases: down finds labs made earlier.
	if b, p := Bridge("fopnp", "homeA"), Port("fopnp", "h1", "eth1"); b != "nlbc08919bb7f" || p != "nlp49c7bb8c8a" {
		t.Errorf("names changed: bridge %s, port %s", b, p)
	}
}

func TestAliasOwnership(t *testing.T) {
	a := BridgeAlias("lab1", "lan")
	if !OwnedBy(a, "lab1") || OwnedBy(a, "lab") || OwnedBy(a, "lab12") {
		t.Errorf("ownership of %q wrong", a)
	}
	if LabOf(PortAlias("lab1", "h1", "eth0")) != "lab1" || LabOf("something else") != "" {
		t.Error("LabOf wrong")
	}
}

// A span's VNI is the same for the same lab and network, above 2^23 and
// within VXLAN's 24 bits, and differs between networks and labs.
func TestSpanVNI(t *testing.T) {
	seen := map[int]string{}
	for _, lab := range []string{"a", "b", "class-07"} {
		for _, nw := range []string{"lan", "dmz", "wan"} {
			v := SpanVNI(lab, nw)
			if v < 1<<23 || v >= 1<<24 || v != SpanVNI(lab, nw) {
				t.Errorf("SpanVNI(%s, %s) = %d", lab, nw, v)
			}
			if other, ok := seen[v]; ok {
				t.Errorf("SpanVNI(%s, %s) = %d, as for %s", lab, nw, v, other)
			}
			seen[v] = lab + "/" + nw
			// A span between pods: below the top bit the hosts' span
			// guards drop, above the small VNIs of links and CNIs.
			if p := PodSpanVNI(lab, nw); p < 1<<22 || p >= 1<<23 || p != PodSpanVNI(lab, nw) || p&0x3fffff != v&0x3fffff {
				t.Errorf("PodSpanVNI(%s, %s) = %#x, SpanVNI %#x", lab, nw, p, v)
			}
		}
	}
	if n := Span("a", "lan"); len(n) > 15 || !strings.HasPrefix(n, SpanPrefix) {
		t.Errorf("Span: %q", n)
	}
}
