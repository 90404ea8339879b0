package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// start: the node's container started (its command waits for the ready
// step), and its network namespace opened for the steps that wire it.
var start = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("start container %s", s.Container.Name)
	},
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		c := e.container(s.Node)
		n, err := e.rt.Inspect(ctx, c.ID)
		if err != nil {
			return false, err
		}
		changed := false
		if n.Pid == 0 {
			if n, err = e.rt.Start(ctx, c.ID); err != nil {
				return false, err
			}
			changed = true
		}
		ns, err := wire.OpenNS(n.Pid)
		if err != nil {
			return changed, err
		}
		e.mu.Lock()
		if old := e.nodes[s.Node]; old != nil {
			old.ns.Close()
		}
		e.nodes[s.Node] = &running{Node: n, ns: ns}
		if changed {
			e.started[s.Node] = true
		}
		e.mu.Unlock()
		return changed, nil
	},
}
