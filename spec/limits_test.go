package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Limits are lowered here so that the files stay small: what is tested is
// that a file past them is refused at once, with the file, key and limit.
func TestLimitsRefuseBigLabs(t *testing.T) {
	defer func(n, i, l, b int) { MaxNodes, MaxInterfaces, MaxLinks, MaxFileBytes = n, i, l, b }(MaxNodes, MaxInterfaces, MaxLinks, MaxFileBytes)
	lab := `name: big
defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {}, eth1: {}}}
  b: {interfaces: {eth0: {}}}
  c: {interfaces: {eth0: {}, eth1: {}}}
links:
  - [a:eth0, b:eth0]
  - [a:eth1, c:eth0]
  - [c:eth1, host:big0]
`
	for _, c := range []struct {
		nodes, ifaces, links int
		want                 string
	}{
		{2, 5, 3, "big.yaml:3:1: nodes: the lab has 3 nodes; netlab takes at most 2 in one lab: split it"},
		{3, 4, 3, "big.yaml:3:1: nodes: the lab has 5 interfaces; netlab takes at most 4 in one lab: split it"},
		{3, 5, 2, "big.yaml:7:1: links: the lab has 3 links; netlab takes at most 2 in one lab: split it"},
		{3, 5, 3, ""},
	} {
		MaxNodes, MaxInterfaces, MaxLinks = c.nodes, c.ifaces, c.links
		_, err := Parse([]byte(lab), "big.yaml")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("limits %d nodes, %d interfaces, %d links:\n got %s\nwant %s", c.nodes, c.ifaces, c.links, got, c.want)
		}
	}

	// Refused before the schema and the checks: only the limit is reported.
	MaxNodes = 2
	bad := strings.Replace(lab, "name: big", "name: big\nbogus: 1", 1)
	if _, err := Parse([]byte(bad), "big.yaml"); len(Problems(err)) != 1 || !strings.Contains(err.Error(), "at most 2") {
		t.Errorf("a file past the limits and with a schema error: got %v", err)
	}

	MaxNodes, MaxFileBytes = 3, len(lab)-1
	_, err := Parse([]byte(lab), "big.yaml")
	want := fmt.Sprintf("big.yaml: the file has %d bytes; a lab file may have at most %d (0 MiB): split the lab", len(lab), len(lab)-1)
	if err == nil || err.Error() != want {
		t.Errorf("too big a file:\n got %v\nwant %s", err, want)
	}
	MaxFileBytes = len(lab)
	if _, err := Parse([]byte(lab), "big.yaml"); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

// parseCost parses data and returns the problems, the time taken and the
// bytes allocated.
func parseCost(data []byte) (time.Duration, uint64, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Parse(data, "bomb.yaml")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc, err
}

// Files that cost the parsers time and memory out of proportion are
// refused from their bytes, before any parser: 20,000 bytes of "[" took
// 2 s and 635 MB in the second parser, 1,500 aliases of a 900 KB string
// 50 s and 16 GB in the checks. Each is refused within 64 MB and a second,
// and no problem quotes a value whole.
func TestInputLimits(t *testing.T) {
	var aliases strings.Builder
	aliases.WriteString("name: x\ndefaults: {image: &s " + strings.Repeat("x", 900_000) + "}\nnodes:\n")
	for i := range 1500 {
		fmt.Fprintf(&aliases, "  n%d: {image: *s, hostname: *s}\n", i)
	}
	for _, c := range []struct {
		name, data, want string
	}{
		{"brackets", strings.Repeat("[", 200_000), "bomb.yaml:1:65: flow collections ([ and {) nest more than 64 deep here"},
		{"braces", "name: x\nnodes: " + strings.Repeat("{a: ", 60_000), "bomb.yaml:2:264: flow collections ([ and {) nest more than 64 deep here"},
		{"aliases of a long string", aliases.String(), "bomb.yaml:2:1: aliases expand to more bytes than the file has"},
		{"a long value", "name: x\nnodes: {a: {image: " + strings.Repeat("X", 1<<20) + "}}\n", `nodes.a.image: "XXXX`},
	} {
		took, alloc, err := parseCost([]byte(c.data))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %.200v, want %s", c.name, err, c.want)
		}
		if took > time.Second || alloc > 64<<20 {
			t.Errorf("%s: took %v and %d MB", c.name, took, alloc>>20)
		}
		if err != nil && len(err.Error()) > 8192 {
			t.Errorf("%s: the problems are %d bytes long", c.name, len(err.Error()))
		}
	}
	// A plain scalar or a quoted string may hold brackets.
	ok := "name: x\nnodes:\n  a:\n    image: netlab/tiny\n    command: [\"echo " + strings.Repeat("[", 100) + "\", 'x" + strings.Repeat("{", 100) + "']\n" +
		"  b:\n    image: netlab/tiny\n    command: echo " + strings.Repeat("[", 100) + "\n" +
		"  c: # " + strings.Repeat("[", 100) + "\n    image: netlab/tiny\n"
	if _, err := Parse([]byte(ok), "ok.yaml"); err != nil {
		t.Errorf("brackets in values: %v", err)
	}
}
