package spec

import "testing"

// A node's group is carried as written, a number or a string.
func TestGroupIsALabel(t *testing.T) {
	lab, err := Parse([]byte(`name: g
defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.0.0.0/24}}
nodes:
  a: {group: 65001, interfaces: {eth0: {network: lan}}}
  b: {group: transit, interfaces: {eth0: {network: lan}}}
  c: {interfaces: {eth0: {network: lan}}}
`), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "65001", "b": "transit", "c": ""} {
		if got := lab.Nodes[name].Group; got != want {
			t.Errorf("node %s: group %q, want %q", name, got, want)
		}
	}
}
