package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/naming"
)

// LabNodes reaches the running nodes of one lab, for netlab check: their
// network namespaces, files and commands. It looks each node's container
// up every time, so that a restarted node is reached in its new namespace.
type LabNodes struct {
	d   *Docker
	lab string
}

// NewLabNodes reaches the nodes of lab through d.
func NewLabNodes(d *Docker, lab string) *LabNodes { return &LabNodes{d: d, lab: lab} }

// pid is the pid of the node's container, or an error saying it does not run.
func (l *LabNodes) pid(ctx context.Context, node string) (int, error) {
	name := naming.Container(l.lab, node)
	info, err := l.d.c.ContainerInspect(ctx, name)
	if errdefs.IsNotFound(err) {
		return 0, fmt.Errorf("node %s has no container (%s): netlab up the lab", node, name)
	}
	if err != nil {
		return 0, fmt.Errorf("inspect container %s: %w", name, err)
	}
	if info.State == nil || !info.State.Running || info.State.Pid == 0 {
		return 0, fmt.Errorf("node %s is not running (container %s): netlab up repairs it", node, name)
	}
	return info.State.Pid, nil
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
	return os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "root", path))
}

// Exec runs cmd in the node with sh -c, as docker exec does, and returns
// its output (stdout then stderr) and exit status.
func (l *LabNodes) Exec(ctx context.Context, node, cmd string) ([]byte, int, error) {
	if _, err := l.pid(ctx, node); err != nil {
		return nil, 0, err
	}
	name := naming.Container(l.lab, node)
	ex, err := l.d.c.ContainerExecCreate(ctx, name, container.ExecOptions{
		Cmd: []string{"sh", "-c", cmd}, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	att, err := l.d.c.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	defer att.Close()
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		_, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader)
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the output of exec in container %s: %w", name, err)
	}
	info, err := l.d.c.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("exec in container %s: %w", name, err)
	}
	return append(stdout.Bytes(), stderr.Bytes()...), info.ExitCode, nil
}

// OpenNS opens the network namespace of the node's container, with a
// netlink handle in it, for PruneRoutes and PruneAddrs.
func (l *LabNodes) OpenNS(ctx context.Context, node string) (*NS, error) {
	fd, err := l.NetNS(ctx, node)
	if err != nil {
		return nil, err
	}
	return nsFromFD(fd, "node "+node)
}
