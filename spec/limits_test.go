package spec

import (
	"strings"
	"testing"
)

func TestLimitsRefuseBigLabs(t *testing.T) {
	defer func(n, b int) { MaxNodes, MaxFileBytes = n, b }(MaxNodes, MaxFileBytes)
	lab := "name: big\ndefaults: {image: netlab/tiny}\nnodes:\n  a: {}\n  b: {}\n  c: {}\n"

	MaxNodes = 2
	_, err := Parse([]byte(lab), "big.yaml")
	if want := "big.yaml:3:1: nodes: the lab has 3 nodes; netlab takes at most 2 in one lab: split it"; err == nil || err.Error() != want {
		t.Errorf("too many nodes:\n got %v\nwant %s", err, want)
	}

	MaxNodes, MaxFileBytes = 3, len(lab)-1
	_, err = Parse([]byte(lab), "big.yaml")
	if err == nil || !strings.Contains(err.Error(), "may have at most") {
		t.Errorf("too big a file: got %v", err)
	}

	MaxFileBytes = len(lab)
	if _, err := Parse([]byte(lab), "big.yaml"); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}
