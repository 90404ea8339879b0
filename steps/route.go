package steps

import (
	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// route: a static route in a node.
var route = Kind{
	Describe: func(s *planner.Step) string {
		r := s.Route
		out := "route " + r.DstName()
		if r.Via.IsValid() {
			out += " via " + r.Via.String()
		}
		if r.Dev != "" {
			out += " dev " + r.Dev
		}
		return out
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		return wire.EnsureRoute(ns, s.Route)
	}),
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{Route: s.Route}
	},
}
