package naming

import "testing"

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
