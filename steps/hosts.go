package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/planner"
)

// hosts: the node's /etc/hosts, kept equal to the lab's names.
var hosts = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("keep /etc/hosts of %s equal to the lab's names", s.Node)
	},
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		return e.rt.EnsureHosts(ctx, e.container(s.Node).ID, e.plan.Hosts)
	},
}
