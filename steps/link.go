package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// link: a veth pair between two nodes. A relay left from when the link
// was impaired is removed first. Its ends go with their nodes.
var link = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("create veth %s:%s <-> %s:%s", s.Veth.A.Node, s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name)
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		a, b, err := e.pair(s.Veth.A.Node, s.Veth.B.Node)
		if err != nil {
			return false, err
		}
		removed, err := hostproc.RemoveRelay(e.host, e.plan.Lab, s.Veth)
		if err != nil {
			return false, err
		}
		changed, err := wire.EnsureLink(e.host, s.Veth, a, b)
		if err != nil {
			return changed || removed, err
		}
		changed, err = withEnd(changed || removed, nil, a, s.Veth.A)
		return withEnd(changed, err, b, s.Veth.B)
	},
}
