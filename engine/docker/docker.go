// Package docker is the Docker runtime: it runs a lab's nodes as
// containers of the Docker engine, with no network (the host wires them),
// through the engine's API.
package docker

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/trust"
)

var _ engine.EngineRuntime = (*Docker)(nil)

// Docker talks to the Docker engine.
type Docker struct {
	c *dockerapi.Client
}

// New connects to the engine named by DOCKER_HOST (default: the local
// socket), negotiating the API version so that old engines work too.
func New(ctx context.Context) (*Docker, error) {
	c, err := dockerapi.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", engine.ErrNoEngine, err)
	}
	if err := ping(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return &Docker{c: c}, nil
}

// ping checks that the engine answers.
func ping(ctx context.Context, c *dockerapi.Client) error {
	if err := c.Ping(ctx); err != nil {
		return fmt.Errorf("%w at %s: %v; start it (scripts/setup.sh does) or set DOCKER_HOST", engine.ErrNoEngine, c.Host(), err)
	}
	return nil
}

// Close releases the client.
func (d *Docker) Close() error { return d.c.Close() }

// argv is the command the node runs once wired: its own command, or the
// image's entrypoint and command. A single string runs through sh -c. caps
// are the capabilities the image declares (naming.LabelImageCaps).
func (d *Docker) argv(ctx context.Context, c *planner.Container) (argv, caps []string, err error) {
	entry, cmd, labels, err := d.ImageConfig(ctx, c.Image)
	if err != nil {
		return nil, nil, err
	}
	return engine.NodeArgv(c, entry, cmd, labels)
}

// ImageConfig is the image's entrypoint, command and labels.
func (d *Docker) ImageConfig(ctx context.Context, image string) (entry, cmd []string, labels map[string]string, err error) {
	img, err := d.c.ImageInspect(ctx, image)
	if dockerapi.IsNotFound(err) {
		return nil, nil, nil, fmt.Errorf("image %q is not on this machine and cannot be pulled here: %s", image, engine.BuildHint(image))
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inspect image %q: %w", image, err)
	}
	if img.Config != nil {
		entry, cmd, labels = img.Config.Entrypoint, img.Config.Cmd, img.Config.Labels
	}
	return entry, cmd, labels, nil
}

// Create creates the node's container with no network, its command behind
// netlab's init. init is the path of a static netlab-init on the host.
func (d *Docker) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (string, error) {
	argv, imageCaps, err := d.argv(ctx, c)
	if err != nil {
		return "", err
	}
	node := c.Labels[naming.LabelNode]
	run := filepath.Join(engine.RunDir, lab, node)
	if err := os.MkdirAll(run, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", run, err)
	}
	if err := engine.PrepareGate(lab); err != nil {
		return "", err
	}
	var env []string
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		env = append(env, k+"="+c.Env[k])
	}
	// The node's /etc/hosts and resolv.conf are netlab's files, as on
	// runc: Docker writes them only for a container on its networks.
	etc := engine.NodeStateDir(lab, node)
	if err := engine.WriteEtcFiles(etc, c, hosts); err != nil {
		return "", fmt.Errorf("node %s: write its /etc files: %w", node, err)
	}
	volumes, err := trust.ConfineVolumes(c.Labels[naming.LabelFile], c.Volumes, c.HostAllowed)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	entry := engine.InitArgs(c)
	binds := []string{init + ":" + engine.InitPath + ":ro", run + ":" + engine.ReadyDir + ":ro", engine.GateDir(lab) + ":" + engine.GatePath + ":ro",
		filepath.Join(etc, "hosts") + ":/etc/hosts", filepath.Join(etc, "resolv.conf") + ":/etc/resolv.conf"}
	if len(c.Files) > 0 {
		if err := writeFiles(filesDir(etc), node, c.Files); err != nil {
			return "", fmt.Errorf("node %s: write its files: %w", node, err)
		}
		binds = append(binds, filesDir(etc)+":"+nodeinit.FilesDir+":ro")
		entry = engine.WithFiles(entry)
	}
	labels := maps.Clone(c.Labels)
	labels[naming.LabelConfig] = c.Config().Label()
	labels[naming.LabelInit] = init
	cfg := &dockerapi.Config{
		Hostname:   c.Hostname,
		Image:      c.Image,
		Env:        env,
		Labels:     labels,
		Entrypoint: entry,
		Cmd:        argv,
		// No network of Docker's: the container gets a network namespace
		// of its own from runc, with its loopback only, which netlab
		// wires. Docker's network "none" made the same namespace through
		// its network controller, at twice the CPU per node start (its
		// daemon's binary run twice: to make the namespace, and as
		// runc's prestart hook).
		NetworkDisabled: true,
	}
	cfg.HostConfig = dockerapi.HostConfig{
		NetworkMode: "none",
		// Back after the engine restarts (the lab's watcher rewires it then);
		// netlab stop and docker stop keep a node stopped.
		RestartPolicy: dockerapi.RestartPolicy{Name: "unless-stopped"},
		Sysctls:       engine.NodeSysctls(c.Sysctls),
		CapAdd:        engine.CapAdd(c, imageCaps),
		CapDrop:       c.CapDrop,
		// Read-only /proc/sys except /proc/sys/net (see engine.ReadonlyPaths).
		ReadonlyPaths: engine.ReadonlyPaths,
		Binds:         append(binds, volumes...),
		Resources:     resources(c.Resources),
	}
	// Not cancelled by an interrupt: the engine finishes a create whose
	// client went away, and a down right after must find what it made.
	ctx = context.WithoutCancel(ctx)
	id, err := d.c.Create(ctx, c.Name, cfg)
	if dockerapi.IsConflict(err) && d.leftByEarlierUp(ctx, lab, node, c.Name) {
		// An up killed while the engine made this node's container:
		// the engine finished the create after this up listed the lab
		// (or is undoing it). Its container was never started; it is
		// made again as planned.
		if err = d.removeLeft(ctx, c.Name); err == nil {
			id, err = d.c.Create(ctx, c.Name, cfg)
		}
	}
	if dockerapi.IsConflict(err) {
		return "", fmt.Errorf("container name %s is taken by a container netlab did not make for this node: remove it (docker rm -f %s) or rename the lab", c.Name, c.Name)
	}
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", c.Name, err)
	}
	return id, nil
}

// leftByEarlierUp tells whether the container of that name is one netlab
// made for this lab's node and never started: what an up killed while
// the engine made it leaves, which the lab's list did not show yet. Gone
// since the name conflict (the engine undid that create) counts too.
func (d *Docker) leftByEarlierUp(ctx context.Context, lab, node, name string) bool {
	info, err := d.c.Inspect(ctx, name)
	if dockerapi.IsNotFound(err) {
		return true
	}
	if err != nil {
		return false
	}
	l := info.Config.Labels
	return l[naming.LabelLab] == lab && l[naming.LabelNode] == node && !info.State.Running && info.State.Pid == 0 && info.State.StartedAt.IsZero()
}

// removeLeft removes the never-started container an earlier up left
// under name, or waits (at most 30 s) for the engine's own removal of it
// (undoing that up's create) to end.
func (d *Docker) removeLeft(ctx context.Context, name string) error {
	err := d.c.Remove(ctx, name)
	if err == nil || dockerapi.IsNotFound(err) {
		return nil
	}
	if !dockerapi.IsConflict(err) { // not "removal already in progress"
		return err
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.c.WaitRemoved(wait, name); err != nil {
		return fmt.Errorf("container %s: wait for the engine to remove it: %w", name, err)
	}
	return nil
}

// Start starts a container (if it is not running) and returns its process
// and namespace.
func (d *Docker) Start(ctx context.Context, id string) (engine.Node, error) {
	// The lab's start gate is made at create, and again by the up that
	// starts it (engine.HoldGate); a source Docker finds missing (after a
	// reboot) it makes as an empty folder: no gate, no waiting.
	if err := d.c.Start(context.WithoutCancel(ctx), id); err != nil {
		return engine.Node{}, fmt.Errorf("start container %s: %w", id[:min(12, len(id))], err)
	}
	n, err := d.Inspect(ctx, id)
	if err == nil && n.Pid == 0 {
		err = fmt.Errorf("container %s exited at once; see docker logs %s", id[:12], id[:12])
	}
	return n, err
}

// Inspect returns a container's process and namespace (Pid 0 if stopped).
func (d *Docker) Inspect(ctx context.Context, id string) (engine.Node, error) {
	info, err := d.c.Inspect(ctx, id)
	if dockerapi.IsNotFound(err) {
		return engine.Node{}, fmt.Errorf("inspect container %s: %w", id, engine.ErrNoContainer)
	}
	if err != nil {
		return engine.Node{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	n := engine.Node{ID: info.ID}
	if info.State.Running {
		n.Pid = info.State.Pid
		n.NetNS, err = nodeinit.Instance(strconv.Itoa(n.Pid))
		if err != nil {
			return n, fmt.Errorf("read namespace of container %s: %w", info.Name, err)
		}
	}
	return n, nil
}

// List returns the lab's containers ("" lists every lab's), by node name.
func (d *Docker) List(ctx context.Context, lab string) ([]engine.Container, error) {
	f := dockerapi.Filters{"label": {naming.LabelLab}}
	if lab != "" {
		f = dockerapi.Filters{"label": {naming.LabelLab + "=" + lab}}
	}
	list, err := d.c.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]engine.Container, 0, len(list))
	for _, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, engine.Container{ID: c.ID, Name: name, Node: c.Labels[naming.LabelNode], State: c.State,
			Status: c.Status, Image: c.Image, Labels: c.Labels, Runtime: engine.RuntimeDocker})
	}
	engine.SortContainers(out)
	return out, nil
}

// Remove removes a container and its anonymous volumes; gone is success.
func (d *Docker) Remove(ctx context.Context, id string) error {
	info, err := d.c.Inspect(ctx, id)
	if dockerapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect container %s: %w", id[:min(12, len(id))], err)
	}
	err = d.c.Remove(ctx, id)
	if err != nil && !dockerapi.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id[:min(12, len(id))], err)
	}
	// Its /etc files (the lab's down removes the lab's whole folder).
	if lab, node := info.Config.Labels[naming.LabelLab], info.Config.Labels[naming.LabelNode]; naming.CheckName("lab", lab) == nil && naming.CheckName("node", node) == nil {
		if err := os.RemoveAll(engine.NodeStateDir(lab, node)); err != nil {
			return fmt.Errorf("remove the /etc files of container %s: %w", id[:min(12, len(id))], err)
		}
	}
	return nil
}

// HasImage tells whether the image is on this machine.
func (d *Docker) HasImage(ctx context.Context, image string) (bool, error) {
	_, err := d.c.ImageInspect(ctx, image)
	if dockerapi.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Stop stops a container (10 s grace, then SIGKILL); stopped is success.
func (d *Docker) Stop(ctx context.Context, id string) error {
	if err := d.c.Stop(ctx, id, 10); err != nil && !dockerapi.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", id[:min(12, len(id))], err)
	}
	return nil
}

// Logs copies a container's output (the node's command, and netlab's init
// before it) to stdout and stderr; with follow, until ctx ends or the
// container stops.
func (d *Docker) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	rc, err := d.c.Logs(ctx, id, follow, tail)
	if err != nil {
		return fmt.Errorf("logs of container %s: %w", id[:min(12, len(id))], err)
	}
	defer rc.Close()
	if err := dockerapi.Demux(stdout, stderr, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs of container %s: %w", id[:min(12, len(id))], err)
	}
	return nil
}

// EnsureHosts rewrites a container's /etc/hosts (the file netlab keeps
// on the host and binds into it) when it differs from the lab's names: a
// node kept by up on an edited file learns the new names and addresses
// without a restart.
func (d *Docker) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (changed bool, err error) {
	info, err := d.c.Inspect(ctx, id)
	if err != nil {
		return false, fmt.Errorf("inspect container %s: %w", id[:min(12, len(id))], err)
	}
	// netlab's file bound over /etc/hosts; Docker's own in a container
	// an older netlab made on Docker's network "none".
	file := info.HostsPath
	for _, m := range info.Mounts {
		if m.Destination == "/etc/hosts" {
			file = m.Source
		}
	}
	if file == "" {
		return false, nil
	}
	changed, err = engine.WriteHostsFile(file, hosts)
	if err != nil {
		return false, fmt.Errorf("write /etc/hosts of %s: %w", strings.TrimPrefix(info.Name, "/"), err)
	}
	return changed, nil
}

// Existing lists every container on the host, of any lab or none, with
// its name and labels: what up checks its container names against.
func (d *Docker) Existing(ctx context.Context) ([]converge.Existing, error) {
	list, err := d.c.List(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []converge.Existing
	for _, c := range list {
		for _, name := range c.Names {
			out = append(out, converge.Existing{Name: strings.TrimPrefix(name, "/"), Labels: c.Labels})
		}
	}
	return out, nil
}
