package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// A cluster runtime (Kubernetes) runs a lab's nodes on other hosts' kernels
// as well as this one's. Its nodes are named as on the other runtimes
// (naming.Container), so the Host tells a cluster lab from the others by a
// file in the lab's run directory that names the runtime and the cluster:
// a later down, status or exec reaches the same cluster without being told.

// RuntimeKubernetes is the Kubernetes runtime's name.
const RuntimeKubernetes = "kubernetes"

// ClusterFile, in a lab's run directory, holds the cluster that runs the
// lab's nodes: its kubeconfig file's path.
const ClusterFile = "cluster"

// ClusterRuntime runs labs on a cluster: down removes a lab with all it has
// there at once.
type ClusterRuntime interface {
	Runtime
	// RemoveLab removes everything of the lab in the cluster and waits
	// until it is gone; gone is success.
	RemoveLab(ctx context.Context, lab string) error
	// Kubeconfig is the file this runtime reached its cluster by.
	Kubeconfig() string
}

// ClusterOpener reaches the cluster of a kubeconfig file ("": the
// default: KUBECONFIG, then ~/.kube/config).
type ClusterOpener func(kubeconfig string) (ClusterRuntime, error)

// NodeFiles is a runtime whose nodes' files netlab writes through the
// node's process (/proc/PID/root) rather than through a directory of the
// host bound into the node: the ready file.
type NodeFiles interface {
	// WriteReady writes the node's ready file, content as WriteReady's.
	WriteReady(ctx context.Context, id string, pid int, content string) error
}

// MarkCluster records that the lab runs on the cluster of kubeconfig.
func MarkCluster(lab, kubeconfig string) error {
	dir := filepath.Join(RunDir, lab)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("record the cluster of lab %s: %w", lab, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ClusterFile), []byte(kubeconfig+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the cluster of lab %s: %w", lab, err)
	}
	return nil
}

// MarkedCluster is the kubeconfig of the cluster that runs the lab, and
// whether the lab runs on a cluster.
func MarkedCluster(lab string) (kubeconfig string, ok bool) {
	if lab == "" || strings.ContainsAny(lab, "/.") {
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(RunDir, lab, ClusterFile))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// clusterLabs are the labs of this host that run on a cluster.
func clusterLabs() []string {
	dirs, _ := os.ReadDir(RunDir)
	var out []string
	for _, e := range dirs {
		if _, ok := MarkedCluster(e.Name()); e.IsDir() && ok {
			out = append(out, e.Name())
		}
	}
	return out
}

// SetCluster lets the host reach clusters: open reaches one by its
// kubeconfig, kubeconfig is the one a new lab's up uses ("": the default).
func (h *Host) SetCluster(open ClusterOpener, kubeconfig string) {
	h.openCluster, h.kubeconfig = open, kubeconfig
	h.clusters = map[string]ClusterRuntime{}
}

// cluster reaches the cluster of kubeconfig once, and keeps it.
func (h *Host) cluster(kubeconfig string) (ClusterRuntime, error) {
	if h.openCluster == nil {
		return nil, errors.New("this netlab cannot reach a Kubernetes cluster")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clusters[kubeconfig]; ok {
		return c, nil
	}
	c, err := h.openCluster(kubeconfig)
	if err != nil {
		return nil, err
	}
	h.clusters[kubeconfig] = c
	return c, nil
}

// clusterOf is the cluster runtime of a lab that runs on one (nil, nil
// when the lab runs on this host).
func (h *Host) clusterOf(lab string) (ClusterRuntime, error) {
	kc, ok := MarkedCluster(lab)
	if !ok {
		return nil, nil
	}
	c, err := h.cluster(kc)
	if err != nil {
		return nil, fmt.Errorf("lab %s runs on the Kubernetes cluster of %s: %w", lab, kc, err)
	}
	return c, nil
}

// labOfID is the lab of a node's id as naming.Container makes it.
func labOfID(id string) string {
	lab, _, _ := strings.Cut(id, "_")
	return lab
}

// RemoveLab removes what a cluster lab has in its cluster; a lab on this
// host has nothing there.
func (h *Host) RemoveLab(ctx context.Context, lab string) error {
	c, err := h.clusterOf(lab)
	if err != nil || c == nil {
		return err
	}
	return c.RemoveLab(ctx, lab)
}

// WriteReady writes a cluster node's ready file through its process; a
// node of this host's runtimes reads it from its run directory.
func (h *Host) WriteReady(ctx context.Context, id string, pid int, content string) error {
	c, err := h.clusterOf(labOfID(id))
	if err != nil || c == nil {
		return err
	}
	if f, ok := c.(NodeFiles); ok {
		return f.WriteReady(ctx, id, pid, content)
	}
	return nil
}

// clusterList lists the nodes of the labs that run on clusters (lab ""
// lists all of them). A lab named is the only one whose mark it reads:
// a page's state read lists its lab twice a second.
func (h *Host) clusterList(ctx context.Context, lab string) ([]Container, error) {
	var labs []string
	if lab == "" {
		labs = clusterLabs()
	} else if _, ok := MarkedCluster(lab); ok {
		labs = []string{lab}
	}
	var out []Container
	for _, l := range labs {
		c, err := h.clusterOf(l)
		if err != nil {
			return nil, err
		}
		if c == nil { // its down ended since clusterLabs read the marks
			continue
		}
		list, err := c.List(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("lab %s: %w", l, err)
		}
		out = append(out, list...)
	}
	return out, nil
}

// Placed is a runtime whose nodes may run on different hosts (a
// cluster's): a link between nodes on two hosts is a tunnel between them.
type Placed interface {
	// Place is where the node runs: its host, and the address other
	// hosts reach it by.
	Place(ctx context.Context, id string) (Place, error)
}

// Delegating is a runtime whose nodes may run where this machine does
// not enter them (a cluster's other hosts, Node.Remote): there the agent
// of the node's host carries out the steps that touch its namespaces.
type Delegating interface {
	// AgentStep carries out a step by the agents of its nodes' hosts. It
	// returns what the agents noted for the user (a tunnel's MTU).
	AgentStep(ctx context.Context, w AgentStep) (changed bool, notes []string, err error)
}

// AgentStep is a step for the agents of its nodes' hosts, with what of
// the plan they need besides.
type AgentStep struct {
	Lab   string
	Step  *planner.Step
	Nodes map[string]string // the nodes whose namespaces it touches: name -> id
	VNI   int               // a link's tunnel VNI, should its ends be on two hosts
	// A port's: its network's bridge, made on the node's host, and the
	// lab's isolation (planner's isolate step), applied there.
	Bridge  *planner.Bridge
	Isolate *planner.Isolate
	// A port's: the nodes with a port on its network that this up has
	// started (name -> id), whose hosts' bridges its span joins where each
	// pod is a host of its own. A function, called when the runtime sends
	// the port's requests: every request then replaces the spans' peers
	// with the members as they are at that moment, not as they were when
	// the step began (a request that had waited would take back a member
	// started meanwhile; the runtime sends one port's requests of a
	// network at a time).
	Members func() map[string]string
}

// Agents is a runtime that reaches its remote nodes (Node.Remote) through
// the agents of their hosts, for what netlab otherwise does in a node's
// namespaces itself.
type Agents interface {
	// ReadRemote reads the node's interfaces and default gateways.
	ReadRemote(ctx context.Context, id string) ([]wire.Iface, []string, error)
	// SetRemoteLink sets the node's interface down or up as
	// faults.SetLink does: the host side of its port on a network, else
	// the interface in the node. where says which.
	SetRemoteLink(ctx context.Context, id, lab, node, iface string, up bool) (where string, changed bool, err error)
	// UnplugRemote deletes the node's interfaces (wire.Unplug): its
	// cables pulled before it stops.
	UnplugRemote(ctx context.Context, id string) error
	// DialRemote connects to port at the first of addrs that answers,
	// from inside the node's namespace (a published port's forwarder):
	// network "tcp", the connection; "udp", a session whose stream carries
	// datagrams, each its length in two bytes and its bytes (hostproc's
	// ServeUDP the agent's end). Its CloseWrite ends what is sent; Close
	// ends the connection.
	DialRemote(ctx context.Context, id, network string, addrs []netip.Addr, port int) (io.ReadWriteCloser, error)
	// ProbeRemote makes a check's network probe (checks.RemoteProbe, as
	// JSON) in the node's namespace: whether it succeeded, and what it saw.
	ProbeRemote(ctx context.Context, id string, probe json.RawMessage) (ok bool, detail string, err error)
	// CaptureRemote captures on the node's interface, with filter (a BPF
	// program as tcpdump -ddd prints it; "": every frame), and returns the
	// pcap stream; closing it ends the capture.
	CaptureRemote(ctx context.Context, id, iface, filter string) (io.ReadCloser, error)
}

// AgentsOf is the runtime of node id (d's own, or the Host's runtime that
// has it) when it reaches remote nodes through agents; nil otherwise.
func AgentsOf(d any, id string) Agents {
	if h, ok := d.(*Host); ok {
		r, err := h.of(id)
		if err != nil {
			return nil
		}
		d = r
	}
	a, _ := d.(Agents)
	return a
}

// Place is where a node runs.
type Place struct {
	Host  string     // the host's name in the cluster
	Addr  netip.Addr // the node's own address on the network between hosts (its pod's)
	Iface string     // the node's interface with Addr
}
