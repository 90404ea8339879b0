package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// hostFW: the host firewall's rule that lets a lab bridge's traffic past
// its FORWARD chain. It goes with its network (converge.Diff's removal of
// a network takes it).
var hostFW = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("accept forwarding within bridge %s in the host firewall", s.Bridge.Name)
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		return wire.EnsureHostForward(e.plan.Lab, s.Bridge.Network, s.Bridge.Name)
	},
}
