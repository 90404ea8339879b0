package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// relay: an impaired link: each node end a veth pair into the host, and a
// netlab relay process between the two host ends that delays, drops and
// paces frames.
var relay = Kind{
	Describe: func(s *planner.Step) string {
		r := s.Relay
		return fmt.Sprintf("create veths %s:%s <-> %s <~> %s <-> %s:%s, relay with %s", r.Ends[0].Node, r.Ends[0].Name,
			r.Host[0].Name, r.Host[1].Name, r.Ends[1].Node, r.Ends[1].Name, r.Spec)
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		a, b, err := e.pair(s.Relay.Ends[0].Node, s.Relay.Ends[1].Node)
		if err != nil {
			return false, err
		}
		guarded, err := wire.EnsureGuard() // the host's guard against the lab's nodes
		if err != nil {
			return guarded, err
		}
		changed, err := hostproc.EnsureRelay(e.host, e.plan.Lab, s.Relay, [2]*wire.NS{a, b}, e.bins.Netlab)
		return changed || guarded, err
	},
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{HostLinks: []string{s.Relay.Host[0].Alias, s.Relay.Host[1].Alias}, Helpers: []string{s.Relay.PidName}}
	},
}
