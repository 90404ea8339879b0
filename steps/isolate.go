package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// isolate: the lab's bridge-family nftables table on the host, which
// drops frames between members of an isolated segment unless an allow
// rule lets them through.
var isolate = Kind{
	Describe: func(s *planner.Step) string {
		var parts []string
		for _, n := range s.Isolate.Networks {
			p := fmt.Sprintf("%s (%s)", n.Network, planner.Plural(len(n.Members), "member port"))
			if len(n.Allow) > 0 {
				p += fmt.Sprintf(" allowing %s", planner.Plural(len(n.Allow), "flow"))
			}
			parts = append(parts, p)
		}
		return fmt.Sprintf("isolate members of %s in host table bridge %s", some(parts, ", "), s.Isolate.Table)
	},
	Do: func(_ context.Context, _ *Executor, s *planner.Step) (bool, error) {
		return wire.EnsureIsolation(s.Isolate)
	},
}
