// Package provider makes a plan real: containers through a Runtime (the
// Docker engine, or runc directly), wiring through netlink in each node's
// namespace, NAT through nftables, and the host-side pieces (bridges,
// firewall rules, port forwarders), the same whichever runtime runs the
// nodes.
package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
)

// Paths inside a node's container.
const (
	InitPath  = nodeinit.Path     // netlab-init, which waits for the wiring
	ReadyDir  = nodeinit.ReadyDir // holds "ready" once the node is wired
	readyFile = "ready"
)

// RunDir is where netlab keeps a lab's files on the host: ready files,
// forwarder pid files and logs. It goes with the lab.
var RunDir = "/run/netlab"

// ErrNoEngine says that the Docker engine cannot be reached.
var ErrNoEngine = errors.New("cannot reach the Docker engine")

// Docker talks to the Docker engine.
type Docker struct {
	c *client.Client
}

// NewDocker connects to the engine named by DOCKER_HOST (default: the local
// socket), negotiating the API version so that old engines work too.
func NewDocker(ctx context.Context) (*Docker, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoEngine, err)
	}
	if _, err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w at %s: %v; start it (scripts/setup.sh does) or set DOCKER_HOST", ErrNoEngine, c.DaemonHost(), err)
	}
	return &Docker{c: c}, nil
}

// Close releases the client.
func (d *Docker) Close() error { return d.c.Close() }

// Node is a node's running container, as the wiring needs it.
type Node struct {
	ID    string
	Pid   int
	NetNS string // Instance: "net:[4026532182] 81234567", changes when the container restarts
}

// LabelImageCaps on an image lists the capabilities its programs need
// beyond the node defaults, comma-separated: netlab/router's FRR daemons
// refuse to start without SYS_ADMIN. A node's cap_drop still wins.
const LabelImageCaps = "netlab.cap_add"

// readonlyPaths are the paths of /proc a node sees read-only: Docker's
// default list, but with /proc/sys split so that /proc/sys/net, which
// belongs to the node's own network namespace, is writable (sysctl -w
// net.ipv4.ip_forward=1 is a classic exercise) while the host-global
// sysctls (kernel, vm, fs...) stay read-only. Missing paths are skipped by
// the runtime.
var readonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger",
	"/proc/sys/abi", "/proc/sys/crypto", "/proc/sys/debug", "/proc/sys/dev", "/proc/sys/fs",
	"/proc/sys/kernel", "/proc/sys/sunrpc", "/proc/sys/user", "/proc/sys/vm",
}

// argv is the command the node runs once wired: its own command, or the
// image's entrypoint and command. A single string runs through sh -c. caps
// are the capabilities the image declares (LabelImageCaps).
func (d *Docker) argv(ctx context.Context, c *planner.Container) (argv, caps []string, err error) {
	img, err := d.c.ImageInspect(ctx, c.Image)
	if errdefs.IsNotFound(err) {
		return nil, nil, fmt.Errorf("image %q is not on this machine and cannot be pulled here: %s", c.Image, buildHint(c.Image))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("inspect image %q: %w", c.Image, err)
	}
	var entry, cmd []string
	var labels map[string]string
	if img.Config != nil {
		entry, cmd, labels = img.Config.Entrypoint, img.Config.Cmd, img.Config.Labels
	}
	return nodeArgv(c, entry, cmd, labels)
}

// nodeArgv is the command the node runs once wired, from the image's
// entrypoint, command and labels (see Docker.argv), and the capabilities
// its image declares.
func nodeArgv(c *planner.Container, entry, cmd []string, labels map[string]string) (argv, caps []string, err error) {
	for _, s := range strings.Split(labels[LabelImageCaps], ",") {
		if name, ok := spec.CapName(s); ok && s != "" {
			caps = append(caps, name)
		}
	}
	switch {
	case len(c.Command) == 1:
		cmd = []string{"/bin/sh", "-c", c.Command[0]}
		entry = nil
	case len(c.Command) > 1:
		cmd = c.Command
	}
	argv = append(append([]string{}, entry...), cmd...)
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("image %q has no command and the node gives none: set command in the lab file", c.Image)
	}
	return argv, caps, nil
}

// capAdd is the node's capabilities plus its image's, less what it drops.
func capAdd(c *planner.Container, image []string) []string {
	out := slices.Clone(c.CapAdd)
	if slices.Contains(c.CapDrop, "ALL") {
		return out
	}
	for _, name := range image {
		if !slices.Contains(out, name) && !slices.Contains(c.CapDrop, name) {
			out = append(out, name)
		}
	}
	return out
}

func buildHint(image string) string {
	switch {
	case image == "netlab/tiny":
		return "build it with scripts/build-tiny.sh"
	case strings.HasPrefix(image, "fopnp/"):
		return "build the playground's images with make images"
	}
	return "build it or load it (docker build, docker load, docker import) first"
}

// Create creates the node's container with no network, its command behind
// netlab's init. init is the path of a static netlab-init on the host.
func (d *Docker) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (string, error) {
	argv, imageCaps, err := d.argv(ctx, c)
	if err != nil {
		return "", err
	}
	node := c.Labels[naming.LabelNode]
	run := filepath.Join(RunDir, lab, node)
	if err := os.MkdirAll(run, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", run, err)
	}
	var env []string
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		env = append(env, k+"="+c.Env[k])
	}
	var extra []string
	for _, h := range hosts {
		for _, n := range h.Names {
			extra = append(extra, n+":"+h.Addr.String())
		}
	}
	entry := initArgs(c)
	labels := maps.Clone(c.Labels)
	labels[naming.LabelConfig] = c.Config().Label()
	labels[naming.LabelInit] = init
	cfg := &container.Config{
		Hostname:   c.Hostname,
		Image:      c.Image,
		Env:        env,
		Labels:     labels,
		Entrypoint: entry,
		Cmd:        argv,
	}
	hc := &container.HostConfig{
		NetworkMode: "none",
		// Back after the engine restarts (the lab's watcher rewires it then);
		// netlab stop and docker stop keep a node stopped.
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		DNS:           c.DNS,
		DNSSearch:     c.DNSSearch,
		ExtraHosts:    extra,
		Sysctls:       c.Sysctls,
		CapAdd:        capAdd(c, imageCaps),
		CapDrop:       c.CapDrop,
		// Read-only /proc/sys except /proc/sys/net (see readonlyPaths).
		ReadonlyPaths: readonlyPaths,
		Binds:         append([]string{init + ":" + InitPath + ":ro", run + ":" + ReadyDir + ":ro"}, c.Volumes...),
	}
	// Not cancelled by an interrupt: the engine finishes a create whose
	// client went away, and a down right after must find what it made.
	ctx = context.WithoutCancel(ctx)
	resp, err := d.c.ContainerCreate(ctx, cfg, hc, nil, nil, c.Name)
	if errdefs.IsConflict(err) {
		return "", fmt.Errorf("container name %s is taken by a container netlab did not make for this node: remove it (docker rm -f %s) or rename the lab", c.Name, c.Name)
	}
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", c.Name, err)
	}
	if len(c.Files) > 0 {
		if err := d.copyFiles(ctx, resp.ID, c.Name, c.Files); err != nil {
			d.Remove(ctx, resp.ID) // created half: up makes it again
			return "", err
		}
	}
	return resp.ID, nil
}

// initArgs is netlab's init with its options, up to "--": what a node
// runs before its own command.
func initArgs(c *planner.Container) []string {
	entry := []string{InitPath, "_init"}
	if len(c.DHCP) > 0 {
		entry = append(entry, "--dhcp", strings.Join(c.DHCP, ","))
		if c.DHCPDNS {
			entry = append(entry, "--dhcp-dns")
		}
	}
	return append(entry, "--")
}

// Start starts a container (if it is not running) and returns its process
// and namespace.
func (d *Docker) Start(ctx context.Context, id string) (Node, error) {
	if err := d.c.ContainerStart(context.WithoutCancel(ctx), id, container.StartOptions{}); err != nil {
		return Node{}, fmt.Errorf("start container %s: %w", id[:min(12, len(id))], err)
	}
	n, err := d.Inspect(ctx, id)
	if err == nil && n.Pid == 0 {
		err = fmt.Errorf("container %s exited at once; see docker logs %s", id[:12], id[:12])
	}
	return n, err
}

// Inspect returns a container's process and namespace (Pid 0 if stopped).
func (d *Docker) Inspect(ctx context.Context, id string) (Node, error) {
	info, err := d.c.ContainerInspect(ctx, id)
	if errdefs.IsNotFound(err) {
		return Node{}, fmt.Errorf("inspect container %s: %w", id, ErrNoContainer)
	}
	if err != nil {
		return Node{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	n := Node{ID: info.ID}
	if info.State != nil && info.State.Running {
		n.Pid = info.State.Pid
		n.NetNS, err = nodeinit.Instance(strconv.Itoa(n.Pid))
		if err != nil {
			return n, fmt.Errorf("read namespace of container %s: %w", info.Name, err)
		}
	}
	return n, nil
}

// Container is one of a lab's containers, as listed.
type Container struct {
	ID, Name, Node, State, Status, Image string
	Labels                               map[string]string
	Runtime                              string // RuntimeDocker, RuntimeRunc
	ImageRoot                            string // runc: the unpacked image its root is made on
}

// List returns the lab's containers ("" lists every lab's), by node name.
func (d *Docker) List(ctx context.Context, lab string) ([]Container, error) {
	f := filters.NewArgs(filters.Arg("label", naming.LabelLab))
	if lab != "" {
		f = filters.NewArgs(filters.Arg("label", naming.LabelLab+"="+lab))
	}
	list, err := d.c.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Container, 0, len(list))
	for _, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Container{ID: c.ID, Name: name, Node: c.Labels[naming.LabelNode], State: c.State,
			Status: c.Status, Image: c.Image, Labels: c.Labels, Runtime: RuntimeDocker})
	}
	sortContainers(out)
	return out, nil
}

// Remove removes a container and its anonymous volumes; gone is success.
func (d *Docker) Remove(ctx context.Context, id string) error {
	err := d.c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id[:min(12, len(id))], err)
	}
	return nil
}

// HasImage tells whether the image is on this machine.
func (d *Docker) HasImage(ctx context.Context, image string) (bool, error) {
	_, err := d.c.ImageInspect(ctx, image)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Stop stops a container (10 s grace, then SIGKILL); stopped is success.
func (d *Docker) Stop(ctx context.Context, id string) error {
	timeout := 10
	if err := d.c.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", id[:min(12, len(id))], err)
	}
	return nil
}

// Logs copies a container's output (the node's command, and netlab's init
// before it) to stdout and stderr; with follow, until ctx ends or the
// container stops.
func (d *Docker) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	rc, err := d.c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow, Tail: tail})
	if err != nil {
		return fmt.Errorf("logs of container %s: %w", id[:min(12, len(id))], err)
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(stdout, stderr, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs of container %s: %w", id[:min(12, len(id))], err)
	}
	return nil
}

// hostsHeader is what Docker writes at the top of a container's /etc/hosts.
const hostsHeader = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// HostsFile is a node's /etc/hosts as Docker writes it for the lab's
// names (ExtraHosts, a line a name), so that a fresh container's file
// compares equal.
func HostsFile(hosts []planner.Host) string {
	var b strings.Builder
	b.WriteString(hostsHeader)
	for _, h := range hosts {
		for _, n := range h.Names {
			b.WriteString(h.Addr.String() + "\t" + n + "\n")
		}
	}
	return b.String()
}

// EnsureHosts rewrites a container's /etc/hosts (the file Docker keeps
// on the host and binds into it) when it differs from the lab's names: a
// node kept by up on an edited file learns the new names and addresses
// without a restart.
func (d *Docker) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (changed bool, err error) {
	info, err := d.c.ContainerInspect(ctx, id)
	if err != nil {
		return false, fmt.Errorf("inspect container %s: %w", id[:min(12, len(id))], err)
	}
	if info.HostsPath == "" {
		return false, nil
	}
	want := HostsFile(hosts)
	if have, err := os.ReadFile(info.HostsPath); err == nil && string(have) == want {
		return false, nil
	}
	// In place: the container sees the host's file through a bind mount of
	// that inode, which a rename would leave behind.
	if err := os.WriteFile(info.HostsPath, []byte(want), 0o644); err != nil {
		return false, fmt.Errorf("write /etc/hosts of %s: %w", strings.TrimPrefix(info.Name, "/"), err)
	}
	return true, nil
}
