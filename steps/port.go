package steps

import (
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// port: a veth pair from a network's bridge (end A, on the host) into a
// node, with the port's VLANs where the bridge filters them.
var port = Kind{
	Describe: func(s *planner.Step) string {
		d := fmt.Sprintf("create veth %s <-> %s:%s on bridge %s", s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name, s.Veth.Bridge)
		if v := s.Veth.VLAN; v != nil {
			if v.PVID != 0 {
				d += fmt.Sprintf(", access VLAN %d", v.PVID)
			}
			if len(v.Tagged) > 0 {
				d += fmt.Sprintf(", trunk %v", v.Tagged)
			}
		}
		return d
	},
	Do: inNode(func(e *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		changed, err := wire.EnsurePort(e.host, s.Veth, ns)
		return withEnd(changed, err, ns, s.Veth.B)
	}),
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{HostLinks: []string{s.Veth.A.Alias}}
	},
}
