package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Resources limit what a node's processes use, through the node's
// cgroups: CPU time, memory (with swap) and the number of processes. A
// node's own keys win over the defaults' key by key.
type Resources struct {
	// CPUs is CPU time in CPUs: 0.5 is half of one (a CFS quota).
	CPUs float64 `yaml:"cpus,omitempty" json:"cpus,omitempty"`
	// Memory is memory and swap together, at most, as written: bytes or
	// a size with a unit (see ParseSize).
	Memory string `yaml:"memory,omitempty" json:"memory,omitempty"`
	// Pids is how many processes and threads may exist at once.
	Pids int64 `yaml:"pids,omitempty" json:"pids,omitempty"`

	MemoryBytes int64 `yaml:"-" json:"-"` // parsed Memory (0 if none)
}

// Bounds on a node's resources: below them a node cannot start, or
// netlab's own exec into it fails (Docker refuses less than 6 MiB).
const (
	MinCPUs   = 0.01
	MaxCPUs   = 1024
	MinMemory = 6 << 20
	MinPids   = 8
	MaxPids   = 1 << 22 // the kernel's pid_max limit
)

// IsZero tells whether r limits nothing.
func (r *Resources) IsZero() bool {
	return r == nil || (r.CPUs == 0 && r.Memory == "" && r.Pids == 0)
}

// ParseSize parses an amount of memory: bytes ("268435456"), or a number
// with a unit: k, m, g, t (Docker's, powers of 1024), KiB, MiB, GiB, TiB
// (the same), KB, MB, GB, TB (powers of 1000), case aside, as in 256MiB,
// 1.5G or 512m.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not an amount of memory like 256MiB, 1G or 512m", s)
	}
	b := v * float64(mult)
	if b >= math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is more memory than any machine has", s)
	}
	return int64(b), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "ki": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mi": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gi": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "ti": 1 << 40, "tb": 1e12,
}

// mergeResources is a node's resources over the defaults', key by key,
// noting which keys came from the defaults; nil when neither gives any.
func mergeResources(n *Node, def, own *Resources) *Resources {
	if def.IsZero() {
		return own
	}
	out := Resources{}
	if own != nil {
		out = *own
	}
	if out.CPUs == 0 && def.CPUs != 0 {
		out.CPUs = def.CPUs
		n.inherited["resources.cpus"] = true
	}
	if out.Memory == "" && def.Memory != "" {
		out.Memory = def.Memory
		n.inherited["resources.memory"] = true
	}
	if out.Pids == 0 && def.Pids != 0 {
		out.Pids = def.Pids
		n.inherited["resources.pids"] = true
	}
	return &out
}

// resources parses the memory limits of the defaults and of every node,
// each reported where it is written: a default's once, under defaults.
func (c *checker) resources() {
	def := c.lab.Defaults.Resources
	if def != nil && def.Memory != "" {
		def.MemoryBytes = c.memory("defaults.resources.memory", def.Memory)
	}
	for _, n := range c.lab.SortedNodes() {
		r := n.Resources
		switch {
		case r == nil || r.Memory == "":
		case n.inherited["resources.memory"]:
			r.MemoryBytes = def.MemoryBytes
		default:
			r.MemoryBytes = c.memory(path("nodes", n.Name, "resources", "memory"), r.Memory)
		}
	}
}

// memory parses a memory limit at a path; 0 if it is not one.
func (c *checker) memory(at, s string) int64 {
	b, err := ParseSize(s)
	switch {
	case err != nil:
		c.ps.add(at, "%v", err)
	case b < MinMemory:
		c.ps.add(at, "%s is less than 6MiB, the least a node starts with", s)
	default:
		return b
	}
	return 0
}
