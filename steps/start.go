package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/netlab/netlab/engine"
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
		// A container this run created is started through the runtime
		// even when it runs already: a pod starts as it is made, and its
		// runtime's Start finishes it (the pod network's interface moved
		// aside, a host name with dots set). So it is not inspected first.
		e.mu.Lock()
		created := e.created[s.Node]
		e.mu.Unlock()
		var n engine.Node
		var err error
		if !created {
			n, err = e.rt.Inspect(ctx, c.ID)
			if errors.Is(err, engine.ErrNoContainer) && s.Container != nil {
				// The container listed as the run began is gone: the
				// engine undid a create whose client (an up killed
				// meanwhile) went away, or someone removed it. It is
				// made again, as planned.
				if c, err = e.createContainer(ctx, s); err != nil {
					return false, err
				}
				created = true
			} else if err != nil {
				return false, err
			}
		}
		changed := false
		if (n.Pid == 0 && !n.Remote) || created {
			if n, err = e.rt.Start(ctx, c.ID); err != nil {
				return false, err
			}
			changed = true
		}
		var ns *wire.NS // none for a node its host's agent wires
		if !n.Remote {
			if ns, err = wire.OpenNS(n.Pid); err != nil {
				return changed, err
			}
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
