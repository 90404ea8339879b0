package spec

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"268435456": 268435456, "256MiB": 256 << 20, "256m": 256 << 20, "256M": 256 << 20, "256MB": 256e6,
		"1.5G": 3 << 29, "1gib": 1 << 30, "64k": 64 << 10, "2 GiB": 2 << 30, "100b": 100,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "12 bananas", "-1G", "1e3M", "1..5G", "99999999999T"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

// A node's resources take the defaults' keys it does not give.
func TestResourcesMerge(t *testing.T) {
	lab, err := Parse([]byte(`name: r
defaults:
  image: netlab/tiny
  resources: {cpus: 0.5, memory: 256MiB, pids: 100}
nodes:
  a: {}
  b: {resources: {pids: 20}}
  c: {resources: {memory: 64m, cpus: 1}}
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Resources{
		"a": {CPUs: 0.5, Memory: "256MiB", MemoryBytes: 256 << 20, Pids: 100},
		"b": {CPUs: 0.5, Memory: "256MiB", MemoryBytes: 256 << 20, Pids: 20},
		"c": {CPUs: 1, Memory: "64m", MemoryBytes: 64 << 20, Pids: 100},
	}
	for name, w := range want {
		if got := lab.Nodes[name].Resources; got == nil || *got != w {
			t.Errorf("node %s: resources %+v, want %+v", name, got, w)
		}
	}
	lab, err = Parse([]byte("name: r\nnodes:\n  a: {image: netlab/tiny}\n"), "r.yaml")
	if err != nil || lab.Nodes["a"].Resources != nil {
		t.Errorf("a node with no resources anywhere: %+v, %v", lab.Nodes["a"].Resources, err)
	}
}
