package hostcheck

import (
	"fmt"
	"strings"
)

// Missing keeps the needs the kernel lacks.
func Missing(needs []Need, k Kernel) []Need {
	var out []Need
	for _, n := range needs {
		if !k.Has(n.Feature) {
			out = append(out, n)
		}
	}
	return out
}

// Warnings says per node, one sentence each, what will not work for want
// of the kernel features missing lists, in its order.
func Warnings(missing []Need) []string {
	var out []string
	for i := 0; i < len(missing); {
		node := missing[i].Node
		var parts []string
		for ; i < len(missing) && missing[i].Node == node; i++ {
			parts = append(parts, fmt.Sprintf("no %s: %s", missing[i], InfoOf(missing[i].Feature).Without))
		}
		out = append(out, fmt.Sprintf("node %s: this kernel has %s", node, strings.Join(parts, "; ")))
	}
	return out
}
