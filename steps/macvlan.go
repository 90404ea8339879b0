package steps

import (
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// macvlan: a node interface made as a macvlan (bridge mode) of a host
// interface, directly in the node's namespace; it goes with the node.
var macvlan = Kind{
	Describe: func(s *planner.Step) string {
		m := s.Macvlan
		return fmt.Sprintf("create macvlan %s:%s of host interface %s for network %s", m.End.Node, m.End.Name, m.Parent, m.Network)
	},
	Do: inNode(func(e *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		changed, err := wire.EnsureMacvlan(e.host, s.Macvlan, ns)
		return withEnd(changed, err, ns, s.Macvlan.End)
	}),
}
