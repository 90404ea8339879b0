package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// bridge: a network's Linux bridge on the host, or the host's own bridge
// for an external network (checked, never created or removed).
var bridge = Kind{
	Describe: func(s *planner.Step) string {
		b := s.Bridge
		if b.VLANFiltering && !b.External {
			return fmt.Sprintf("create bridge %s for network %s, VLAN filtering on", b.Name, b.Network)
		}
		if b.External {
			return fmt.Sprintf("use the host's bridge %s for network %s (external: never created or removed)", b.Name, b.Network)
		}
		return fmt.Sprintf("create bridge %s for network %s", b.Name, b.Network)
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		changed, err := wire.EnsureBridge(e.host, s.Bridge)
		if err != nil || s.Bridge.External {
			return changed, err
		}
		guarded, err := wire.EnsureGuardBridge(e.plan.Lab, s.Bridge.Name) // the host's guard against the lab's nodes
		return changed || guarded, err
	},
	Owns: func(s *planner.Step) converge.Owned {
		if s.Bridge.External {
			return converge.Owned{}
		}
		return converge.Owned{Network: s.Bridge, HostLinks: []string{s.Bridge.Alias}}
	},
}
