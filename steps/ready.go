package steps

import (
	"context"
	"os"
	"path/filepath"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
)

// ready: the node's wiring is done: the interfaces the lab put in it are
// recorded (status reports those that went missing), and its ready file
// releases its command.
var ready = Kind{
	Describe: func(*planner.Step) string { return "release the node's command" },
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		lab := e.plan.Lab
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		names := make([]string, len(e.ifaces[s.Node]))
		for i, end := range e.ifaces[s.Node] {
			names[i] = end.Name
		}
		if err := engine.WriteInterfaces(lab, s.Node, names); err != nil {
			return false, err
		}
		file := filepath.Join(engine.RunDir, lab, s.Node, engine.ReadyFile)
		if old, err := os.ReadFile(file); err == nil && string(old) == n.NetNS {
			return false, nil
		}
		if f, ok := e.rt.(engine.NodeFiles); ok {
			if err := f.WriteReady(ctx, n.ID, n.Pid, n.NetNS); err != nil {
				return false, err
			}
		}
		return true, engine.WriteReady(lab, s.Node, n.NetNS)
	},
}
