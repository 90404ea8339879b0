// Package engine runs a lab's nodes: the Runtime interface that the
// Docker runtime (engine/docker) and the runc runtime (engine/runc)
// implement, the Host that sends each operation to the runtime that has
// the node, the records of containers and nodes, and what no runtime owns:
// a lab's run directory and lock, and the copy of netlab that nodes run
// as their init.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeexec"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
)

// Runtime runs a lab's nodes: the few operations the executor, down,
// status and the commands that reach a node need. Everything else (veths,
// addresses, routes, nftables, relays, forwarders, the init's ready file,
// DHCP) is done from the host in the node's namespaces, whichever runtime
// made them. An id is what Create returned, or the container's name.
type Runtime interface {
	// Create makes the node's container, not started, with its command
	// behind netlab's init (init, a static binary on the host:
	// netlab-init, see Installed).
	Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (id string, err error)
	// Start starts the container unless it runs, and returns its process.
	Start(ctx context.Context, id string) (Node, error)
	// Inspect returns the container's process (Pid 0 when it does not run).
	Inspect(ctx context.Context, id string) (Node, error)
	// List returns the lab's containers ("" lists every lab's), sorted
	// by lab and node.
	List(ctx context.Context, lab string) ([]Container, error)
	// Stop stops the container: SIGTERM, 10 s, SIGKILL; stopped is success.
	Stop(ctx context.Context, id string) error
	// Remove removes the container and its file system; gone is success.
	Remove(ctx context.Context, id string) error
	// EnsureHosts rewrites the container's /etc/hosts in place when it
	// differs from HostsFile(hosts).
	EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (changed bool, err error)
	// Exec runs argv in the running container and returns its exit code.
	Exec(ctx context.Context, id string, argv []string, stdio Stdio) (int, error)
	// Logs copies the container's output; with follow, until ctx ends or
	// the container stops.
	Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error
	// HasImage tells whether the image can be run without fetching it.
	HasImage(ctx context.Context, image string) (bool, error)
	// Died lists the nodes of since whose process ended after the node's
	// time in since, with the exit code of each one's last end (-1: the
	// runtime keeps none). A time per node: an end before it is an
	// earlier instance's (a restart while up wired the new one).
	Died(ctx context.Context, lab string, since map[string]time.Time) (map[string]int, error)
	// Watch follows the lab's nodes until ctx ends and sends on kick
	// (never blocking) whenever one needs rewiring: it started again
	// (since: from when), or, where nothing else starts it again, it
	// ended and was not stopped on purpose.
	Watch(ctx context.Context, lab string, since time.Time, kick chan<- struct{}) error
}

// Stdio is what Exec connects a command to. In nil: no input. With TTY
// and no Resize, In must be the user's terminal, whose size the command
// follows.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	TTY      bool
	// Resize, with TTY, runs the command on a terminal netlab makes (a
	// pseudo-terminal) rather than on the caller's: In and Out may be any
	// stream (a websocket), the terminal starts with the size waiting on
	// Resize when the command starts (80x24 if none), and takes each size
	// that comes after. Output comes on Out only.
	Resize <-chan WindowSize
}

// WindowSize is a terminal's size in characters.
type WindowSize struct{ Cols, Rows uint16 }

// Runtime names, as the lab file's runtime key and --runtime give them.
const (
	RuntimeDocker = "docker"
	RuntimeRunc   = "runc"
)

var _ Runtime = (*Host)(nil)

// ErrNoContainer says that a container does not exist.
var ErrNoContainer = errors.New("no such container")

// ErrNoEngine says that the Docker engine cannot be reached.
var ErrNoEngine = errors.New("cannot reach the Docker engine")

// EngineRuntime is a runtime behind an engine that runs containers of
// other programs too (Docker): it lists every one of them, of any lab or
// none.
type EngineRuntime interface {
	Runtime
	Existing(ctx context.Context) ([]converge.Existing, error)
	Close() error
}

// LocalRuntime is a runtime whose nodes are files in the labs' run
// directories (runc): it tells its own nodes and labs from them.
type LocalRuntime interface {
	Runtime
	// Has tells whether the container is one of this runtime's nodes.
	Has(id string) bool
	// HasLab tells whether the lab's nodes are this runtime's.
	HasLab(lab string) bool
	Close() error
}

// Host reaches every lab on this host, whichever runtime runs it: it lists
// the containers of all its runtimes and sends an operation on a container
// to the runtime that has it. The Docker engine is optional: when it cannot
// be reached, labs of the other runtimes still work, and only what needs
// the engine fails (with the reason).
type Host struct {
	docker    EngineRuntime // nil when the engine cannot be reached
	dockerErr error
	runc      LocalRuntime // nil when runc is not installed
	runcErr   error
	// Clusters (SetCluster): nil openCluster reaches none.
	openCluster ClusterOpener
	kubeconfig  string // what a new lab's up uses
	mu          sync.Mutex
	clusters    map[string]ClusterRuntime // by kubeconfig
}

// NewHost reaches this host's labs through its runtimes: docker, unless
// dockerErr says why the engine cannot be reached, and runc, unless
// runcErr says why it cannot run. It fails only if neither can be used.
func NewHost(docker EngineRuntime, dockerErr error, runc LocalRuntime, runcErr error) (*Host, error) {
	h := &Host{docker: docker, dockerErr: dockerErr, runc: runc, runcErr: runcErr}
	if dockerErr != nil {
		h.docker = nil
	}
	if runcErr != nil {
		h.runc = nil
	}
	if h.docker == nil && h.runc == nil {
		return nil, h.dockerErr
	}
	return h, nil
}

// Close releases the runtimes' clients.
func (h *Host) Close() error {
	var errs []error
	if h.docker != nil {
		errs = append(errs, h.docker.Close())
	}
	if h.runc != nil {
		errs = append(errs, h.runc.Close())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clusters = map[string]ClusterRuntime{}
	return errors.Join(errs...)
}

// Runtime returns the runtime of that name ("" is Docker's).
func (h *Host) Runtime(name string) (Runtime, error) {
	switch name {
	case "", RuntimeDocker:
		return h.engine()
	case RuntimeRunc:
		if h.runc == nil {
			return nil, h.runcErr
		}
		return h.runc, nil
	case RuntimeKubernetes:
		return h.cluster(h.kubeconfig)
	}
	return nil, fmt.Errorf("unknown runtime %q: docker, runc or kubernetes", name)
}

// engine returns the Docker engine, or why it cannot be reached.
func (h *Host) engine() (EngineRuntime, error) {
	if h.docker == nil {
		return nil, h.dockerErr
	}
	return h.docker, nil
}

// of returns the runtime that has the container.
func (h *Host) of(id string) (Runtime, error) {
	if c, err := h.clusterOf(labOfID(id)); err != nil || c != nil {
		return c, err
	}
	if h.runc != nil && h.runc.Has(id) {
		return h.runc, nil
	}
	return h.engine()
}

// ofLab returns the runtime that runs the lab.
func (h *Host) ofLab(lab string) (Runtime, error) {
	if c, err := h.clusterOf(lab); err != nil || c != nil {
		return c, err
	}
	if h.runc != nil && h.runc.HasLab(lab) {
		return h.runc, nil
	}
	return h.engine()
}

// LabRuntime returns the runtime that runs the lab (Docker's when no
// other has it): where a lab's own reads go, List asking every runtime.
func (h *Host) LabRuntime(lab string) (Runtime, error) {
	return h.ofLab(lab)
}

// Existing lists every container on the host, of any lab or none: what up
// checks the names of its containers against.
func (h *Host) Existing(ctx context.Context) ([]converge.Existing, error) {
	var out []converge.Existing
	if h.docker != nil {
		list, err := h.docker.Existing(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	if h.runc != nil {
		list, err := h.runc.List(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			out = append(out, converge.Existing{Name: c.Name, Labels: c.Labels})
		}
	}
	return out, nil
}

// List returns the lab's containers in every runtime ("" lists every
// lab's), by lab and node. Without the Docker engine it lists the other
// runtimes' labs, and fails for a lab that is none of theirs.
func (h *Host) List(ctx context.Context, lab string) ([]Container, error) {
	out, err := h.clusterList(ctx, lab)
	if err != nil {
		return nil, err
	}
	if _, ok := MarkedCluster(lab); ok {
		SortContainers(out)
		return out, nil
	}
	if h.runc != nil {
		list, err := h.runc.List(ctx, lab)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	if h.docker == nil && lab != "" && len(out) == 0 && (h.runc == nil || !h.runc.HasLab(lab)) {
		return nil, h.dockerErr
	}
	if h.docker != nil {
		list, err := h.docker.List(ctx, lab)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	SortContainers(out)
	return out, nil
}

// SortContainers sorts containers by lab, then node.
func SortContainers(list []Container) {
	sort.SliceStable(list, func(i, j int) bool {
		if a, b := list[i].Labels[naming.LabelLab], list[j].Labels[naming.LabelLab]; a != b {
			return a < b
		}
		return list[i].Node < list[j].Node
	})
}

// Create is not sent anywhere: up creates through the lab's runtime.
func (h *Host) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (string, error) {
	return "", fmt.Errorf("create container %s: choose the lab's runtime first", c.Name)
}

// Start starts the container in its runtime.
func (h *Host) Start(ctx context.Context, id string) (Node, error) {
	r, err := h.of(id)
	if err != nil {
		return Node{}, err
	}
	return r.Start(ctx, id)
}

// Inspect returns the container's process, from its runtime.
func (h *Host) Inspect(ctx context.Context, id string) (Node, error) {
	r, err := h.of(id)
	if err != nil {
		return Node{}, err
	}
	return r.Inspect(ctx, id)
}

// Stop stops the container in its runtime.
func (h *Host) Stop(ctx context.Context, id string) error {
	r, err := h.of(id)
	if err != nil {
		return err
	}
	return r.Stop(ctx, id)
}

// Remove removes the container from its runtime.
func (h *Host) Remove(ctx context.Context, id string) error {
	r, err := h.of(id)
	if err != nil {
		return err
	}
	return r.Remove(ctx, id)
}

// EnsureHosts keeps the container's /etc/hosts.
func (h *Host) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (bool, error) {
	r, err := h.of(id)
	if err != nil {
		return false, err
	}
	return r.EnsureHosts(ctx, id, hosts)
}

// Exec runs a command in the container: without a terminal, on this
// host's runtimes, through the node's init (package nodeexec), which
// costs a fork where the runtime's exec costs its engine and runc; through
// the runtime's exec otherwise, and when the init takes no commands.
func (h *Host) Exec(ctx context.Context, id string, argv []string, stdio Stdio) (int, error) {
	r, err := h.of(id)
	if err != nil {
		return 0, err
	}
	if _, cluster := r.(ClusterRuntime); !cluster && !stdio.TTY {
		if n, err := r.Inspect(ctx, id); err == nil && n.Pid > 0 {
			code, err := nodeexec.Run(ctx, n.Pid, argv, stdio.In, stdio.Out, stdio.Err)
			if !errors.Is(err, nodeexec.ErrUnavailable) {
				return code, err
			}
		}
	}
	return r.Exec(ctx, id, argv, stdio)
}

// Logs copies the container's output.
func (h *Host) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	r, err := h.of(id)
	if err != nil {
		return err
	}
	return r.Logs(ctx, id, follow, tail, stdout, stderr)
}

// HasImage tells whether Docker has the image (an oci: or rootfs: image:
// whether its directory is here).
func (h *Host) HasImage(ctx context.Context, image string) (bool, error) {
	if h.runc != nil && (strings.HasPrefix(image, rootfs.PrefixOCI) || strings.HasPrefix(image, rootfs.PrefixRootfs)) {
		return h.runc.HasImage(ctx, image)
	}
	d, err := h.engine()
	if err != nil {
		return false, err
	}
	return d.HasImage(ctx, image)
}

// Died lists the nodes that died since their time, from the lab's runtime.
func (h *Host) Died(ctx context.Context, lab string, since map[string]time.Time) (map[string]int, error) {
	r, err := h.ofLab(lab)
	if err != nil {
		return nil, err
	}
	return r.Died(ctx, lab, since)
}

// Watch follows the lab's nodes through the lab's runtime.
func (h *Host) Watch(ctx context.Context, lab string, since time.Time, kick chan<- struct{}) error {
	r, err := h.ofLab(lab)
	if err != nil {
		return err
	}
	return r.Watch(ctx, lab, since, kick)
}
