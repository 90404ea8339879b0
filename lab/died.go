package lab

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// startGrace is how long up watches the nodes it released for a command
// that ends at once (a typo in command, a missing program).
const startGrace = 200 * time.Millisecond

// DeadNode is a node whose command ended right after up started it.
type DeadNode struct {
	Node string `json:"node"`
	Code int    `json:"code"` // its exit code; -1 where the runtime does not keep it
	Log  string `json:"log"`  // its last lines
	// StopErr is why it could not be stopped, if it could not.
	StopErr error `json:"-"`
}

// DiedError is an up whose nodes ended at start: they were stopped, so
// that they do not start and die again and again.
type DiedError struct {
	Lab   string
	Nodes []DeadNode
}

func (e *DiedError) Error() string {
	var b strings.Builder
	for _, d := range e.Nodes {
		how := fmt.Sprintf(", with exit code %d", d.Code)
		if d.Code < 0 {
			how = "" // the runtime does not know it
		}
		fmt.Fprintf(&b, "node %s: its command ended right after it started%s; its last lines:\n", d.Node, how)
		for _, line := range strings.Split(strings.TrimSuffix(d.Log, "\n"), "\n") {
			if d.Log != "" {
				fmt.Fprintf(&b, "  | %s\n", line)
			}
		}
		if d.StopErr != nil {
			fmt.Fprintf(&b, "  (could not stop it: %v)\n", d.StopErr)
		}
	}
	names := make([]string, len(e.Nodes))
	for i, d := range e.Nodes {
		names[i] = d.Node
	}
	fmt.Fprintf(&b, "lab %s: %s ended at start and stopped (%s): fix the command or image in the file and run netlab up again; netlab logs %s %s shows all of it",
		e.Lab, planner.Plural(len(names), "node"), strings.Join(names, ", "), e.Lab, names[0])
	return b.String()
}

// diedAtStart fails with a DiedError when released nodes' commands ended
// since their release began (the restart policy may have started them
// again already), after stopping them.
func (m *Manager) diedAtStart(ctx context.Context, rt engine.Runtime, lab string, released map[string]time.Time) error {
	if len(released) == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(startGrace):
	}
	died, err := rt.Died(ctx, lab, released)
	if err != nil {
		return err
	}
	e := &DiedError{Lab: lab}
	for _, node := range slices.Sorted(maps.Keys(released)) {
		code, ok := died[node]
		if !ok {
			continue
		}
		id := naming.Container(lab, node) // a runtime takes a container's name for its id
		dead := DeadNode{Node: node, Code: code}
		var log bytes.Buffer
		if err := rt.Logs(ctx, id, false, "10", &log, &log); err != nil {
			fmt.Fprintf(&log, "(no logs: %v)\n", err)
		}
		dead.Log = log.String()
		dead.StopErr = rt.Stop(ctx, id)
		e.Nodes = append(e.Nodes, dead)
	}
	if len(e.Nodes) > 0 {
		return e
	}
	return nil
}
