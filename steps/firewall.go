package steps

import (
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// firewall: the node's nftables filter table, replaced whole when it
// differs.
var firewall = Kind{
	Describe: func(s *planner.Step) string {
		f := s.Firewall
		return fmt.Sprintf("firewall in %s: input %s, forward %s, output %s, %s", s.Node, f.Input, f.Forward, f.Output, planner.Plural(len(f.Rules), "rule"))
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		return wire.EnsureFirewall(ns, s.Firewall)
	}),
}
