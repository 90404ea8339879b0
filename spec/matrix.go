package spec

import (
	"strconv"
	"strings"
)

// MatrixCheck is the connectivity matrix as a check (matrix: {}): a host
// of every group (AS) pings one of every other, and each path is judged
// against the customer, provider and peer relations of the BGP
// neighbors (package matrix). It passes when every pair is reachable on a
// valid path.
type MatrixCheck struct {
	// Policy false passes a matrix whose pairs are all reachable, on any
	// path (for ASes whose relations the students set themselves).
	Policy *bool `yaml:"policy,omitempty" json:"policy,omitempty"`
}

// checkMatrix validates a matrix check: it has no node of its own, and
// needs two groups.
func (c *checker) checkMatrix(at string, ch *Check) {
	for _, key := range []string{"from", "on"} {
		if c.given(path(at, key)) {
			c.ps.add(path(at, key), "a matrix check runs from a host of every group: drop %s", key)
		}
	}
	if ch.Matrix == nil {
		ch.Matrix = &MatrixCheck{}
	}
	groups := map[string]bool{}
	for _, n := range c.lab.Nodes {
		if n.Group != "" {
			groups[n.Group] = true
		}
	}
	if len(groups) < 2 {
		c.ps.add(path(at, "matrix"), "a matrix needs nodes in two groups or more (group: AS on each node), this lab has %d", len(groups))
	}
}

// CompareGroups orders groups (node group: labels): as numbers when both
// are, numbers before words, else as words.
func CompareGroups(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return x - y
	case (errA == nil) != (errB == nil):
		if errA == nil {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
