package steps

import (
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// vlanIf: an 802.1Q sub-interface of a node interface, in the node.
var vlanIf = Kind{
	Describe: func(s *planner.Step) string {
		v := s.VLANIf
		return fmt.Sprintf("create %s:%s, VLAN %d on %s (802.1Q)", v.End.Node, v.End.Name, v.VID, v.Parent)
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		changed, err := wire.EnsureVLANIf(ns, s.VLANIf)
		return withEnd(changed, err, ns, s.VLANIf.End)
	}),
}
