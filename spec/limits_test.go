package spec

import (
	"fmt"
	"strings"
	"testing"
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
