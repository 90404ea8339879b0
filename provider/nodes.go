package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
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

// pid is the pid of the node's container, or an error saying it does not run.
func (l *LabNodes) pid(ctx context.Context, node string) (int, error) {
	name := naming.Container(l.lab, node)
	n, err := l.r.Inspect(ctx, name)
	if errors.Is(err, engine.ErrNoContainer) {
		return 0, fmt.Errorf("node %s has no container (%s): netlab up the lab", node, name)
	}
	if err != nil {
		return 0, err
	}
	if n.Remote {
		return 0, engine.RemoteError(node, "reaching its namespaces")
	}
	if n.Pid == 0 {
		return 0, fmt.Errorf("node %s is not running (container %s): netlab up repairs it", node, name)
	}
	return n.Pid, nil
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
	if _, err := l.pid(ctx, node); err != nil {
		return nil, 0, err
	}
	var stdout, stderr bytes.Buffer
	code, err := l.r.Exec(ctx, naming.Container(l.lab, node), []string{"sh", "-c", cmd}, engine.Stdio{Out: &stdout, Err: &stderr})
	if err != nil {
		return nil, 0, err
	}
	return append(stdout.Bytes(), stderr.Bytes()...), code, nil
}
