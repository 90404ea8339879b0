package steps

import (
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// nat: the node's nftables NAT table, replaced whole when it differs.
var nat = Kind{
	Describe: func(s *planner.Step) string {
		var parts []string
		for _, m := range s.NAT.Masquerade {
			parts = append(parts, "masquerade out "+m)
		}
		for _, d := range s.NAT.DNAT {
			parts = append(parts, fmt.Sprintf("dnat %s %s/%d -> %s", d.In, d.Proto, d.Port, d.To))
		}
		return "nftables table: " + some(parts, ", ")
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		return wire.EnsureNAT(ns, s.NAT)
	}),
}
