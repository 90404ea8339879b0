package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/wire"
)

// LabNodes reaches the running nodes of one lab, for netlab check: their
// network namespaces, files and commands. It looks each node's container
// up every time, so that a restarted node is reached in its new namespace.
type LabNodes struct {
	r   engine.Runtime
	lab string
}

// NewLabNodes reaches the nodes of lab through r (a Host reaches them
// whichever runtime runs the lab).
func NewLabNodes(r engine.Runtime, lab string) *LabNodes { return &LabNodes{r: r, lab: lab} }

// running is the node's running container, or an error saying it does
// not run.
func (l *LabNodes) running(ctx context.Context, node string) (engine.Node, error) {
	name := naming.Container(l.lab, node)
	n, err := l.r.Inspect(ctx, name)
	if errors.Is(err, engine.ErrNoContainer) {
		return n, fmt.Errorf("node %s has no container (%s): netlab up the lab", node, name)
	}
	if err != nil {
		return n, err
	}
	if n.Pid == 0 && !n.Remote {
		return n, fmt.Errorf("node %s is not running (container %s): netlab up repairs it", node, name)
	}
	return n, nil
}

// pid is the pid of the node's container on this machine, or an error
// saying it does not run here.
func (l *LabNodes) pid(ctx context.Context, node string) (int, error) {
	n, err := l.running(ctx, node)
	if err == nil && n.Remote {
		err = engine.RemoteError(node, "reaching its namespaces")
	}
	return n.Pid, err
}

// ProbeRemote makes a check's network probe through the agent of the
// node's host when the node runs on another host of a cluster; false for
// a node this machine enters.
func (l *LabNodes) ProbeRemote(ctx context.Context, c *spec.Check) (checks.Outcome, bool) {
	name := naming.Container(l.lab, c.Node)
	a := engine.AgentsOf(l.r, name)
	if a == nil {
		return checks.Outcome{}, false
	}
	n, err := l.r.Inspect(ctx, name)
	if err != nil || !n.Remote {
		return checks.Outcome{}, false
	}
	probe, err := json.Marshal(checks.RemoteProbeOf(c))
	if err != nil {
		return checks.Outcome{Err: err}, true
	}
	ok, detail, err := a.ProbeRemote(ctx, name, probe)
	return checks.Outcome{OK: ok, Detail: detail, Err: err}, true
}

// NetNS opens the network namespace of the node's container.
func (l *LabNodes) NetNS(ctx context.Context, node string) (netns.NsHandle, error) {
	pid, err := l.pid(ctx, node)
	if err != nil {
		return netns.None(), err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return netns.None(), fmt.Errorf("open the network namespace of node %s: %w", node, err)
	}
	return ns, nil
}

// ReadFile reads a file of the node's file system, through /proc/PID/root.
func (l *LabNodes) ReadFile(ctx context.Context, node, path string) ([]byte, error) {
	pid, err := l.pid(ctx, node)
	if err != nil {
		return nil, err
	}
	// Resolved inside the node's root: an absolute symbolic link in the
	// node must not lead to the host's file.
	return checks.ReadNodeFile(pid, path, checks.MaxNodeFile)
}

// OpenNS opens the network namespace of the node's container, with a
// netlink handle in it, for wire.PruneRoutes and wire.PruneAddrs.
func (l *LabNodes) OpenNS(ctx context.Context, node string) (*wire.NS, error) {
	fd, err := l.NetNS(ctx, node)
	if err != nil {
		return nil, err
	}
	return wire.NewNS(fd, "node "+node)
}

// Exec runs cmd in the node with sh -c, as docker exec does, and returns
// its output (stdout then stderr) and exit status.
func (l *LabNodes) Exec(ctx context.Context, node, cmd string) ([]byte, int, error) {
	if _, err := l.running(ctx, node); err != nil {
		return nil, 0, err
	}
	var stdout, stderr bytes.Buffer
	code, err := l.r.Exec(ctx, naming.Container(l.lab, node), []string{"sh", "-c", cmd}, engine.Stdio{Out: &stdout, Err: &stderr})
	if err != nil {
		return nil, 0, err
	}
	return append(stdout.Bytes(), stderr.Bytes()...), code, nil
}
