package steps

import (
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// hostLink: a veth pair from the machine itself (end A, with the
// addresses in HostAddrs) into a node.
var hostLink = Kind{
	Describe: func(s *planner.Step) string {
		d := fmt.Sprintf("create veth %s (on this machine) <-> %s:%s", s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name)
		if len(s.HostAddrs) > 0 {
			d += ", machine's end " + some(strs(s.HostAddrs), " ")
		}
		return d
	},
	Do: inNode(func(e *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		changed, err := wire.EnsureHostLink(e.host, s.Veth, s.HostAddrs, ns)
		if err == nil { // held to its own addresses by the host's guard
			var guarded bool
			guarded, err = wire.EnsureGuardHostLink(e.plan.Lab, s.Veth.A.Name)
			changed = changed || guarded
		}
		return withEnd(changed, err, ns, s.Veth.B)
	}),
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{HostLinks: []string{s.Veth.A.Alias}}
	},
}
