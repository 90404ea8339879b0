package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netlab/netlab/labs"
)

func TestBundledLabsByName(t *testing.T) {
	labs.Dir = t.TempDir()
	code, stdout, stderr := netlab(t, "validate", "ospf")
	if code != 0 || !strings.Contains(stdout, "lab ospf: 7 nodes") {
		t.Fatalf("validate ospf: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = netlab(t, "labs", "--json")
	if code != 0 {
		t.Fatalf("labs: exit %d\n%s", code, stderr)
	}
	var list []struct {
		Name   string          `json:"name"`
		About  string          `json:"about"`
		Nodes  int             `json:"nodes"`
		Images map[string]bool `json:"images"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range list {
		if l.Name == "ospf" {
			found = true
			if l.Nodes != 7 || !strings.HasPrefix(l.About, "OSPF") || len(l.Images) != 2 {
				t.Errorf("ospf listed as %+v", l)
			}
		}
	}
	if !found {
		t.Errorf("netlab labs does not list ospf:\n%s", stdout)
	}
	if code, _, stderr := netlab(t, "validate", "nosuchlab"); code != exitUsage || !strings.Contains(stderr, "does not exist") {
		t.Errorf("validate nosuchlab: exit %d, %s", code, stderr)
	}
}
