package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// The agent: netlab wires a node from outside, in its namespaces, which it
// enters by the node's process. Where a pod runs on a host whose kernel is
// not this machine's, that is the work of netlab's agent on that host: a
// DaemonSet (k8s/agent.yaml: host network, host PID) whose container is
// netlab itself. netlab opens one session per host, an exec into the
// host's agent pod running AgentCommand, and sends it requests as JSON
// lines on its stdin; the agent answers each on its stdout, by id. No port
// of its own: the API's authorization (exec into the agent's pods) decides
// who may wire.

// AgentNamespace is the namespace of netlab's agent.
const AgentNamespace = "netlab-system"

// AgentSelector picks the agent's pods.
const AgentSelector = "app.kubernetes.io/name=netlab-agent"

// agentContainer is the agent's container in its pod.
const agentContainer = "agent"

// AgentProtocol is the version of the requests; an agent says its own in
// its first line, and netlab refuses another (the agent's image is a
// build of netlab: the same build as the netlab that sends).
const AgentProtocol = 1

// AgentCommand is what netlab runs in an agent's container for a session.
var AgentCommand = []string{"/netlab", "_agent", "wire"}

// forceAgent: NETLAB_KUBE_AGENT=1 wires every pod through its host's
// agent, also where this machine sees the pod's process (as a real
// cluster's pods are wired; the test cluster's tests use it).
func forceAgent() bool { return os.Getenv("NETLAB_KUBE_AGENT") == "1" }

// The agent's operations.
const (
	AgentNode   = "node"   // the container's process: Pid, NetNS
	AgentStart  = "start"  // finish a started pod: FinishStart
	AgentHosts  = "hosts"  // its /etc/hosts: Changed
	AgentReady  = "ready"  // its ready file
	AgentSignal = "signal" // signal its process
	AgentStepOp = "step"   // carry out a plan step (steps.OnHost): Changed, Notes
	AgentRead   = "read"   // its interfaces and gateways (wire.ReadNS): Ifaces, Gateways
	AgentDown   = "down"   // remove what the agent made on its host for a lab: Notes
	AgentLink   = "link"   // set a node's interface down or up (faults.SetLink): Where, Changed
	AgentUnplug = "unplug" // delete its interfaces (wire.Unplug)
	AgentProbe  = "probe"  // a check's network probe in its namespace (checks.RemoteProbe): OK, Detail
)

// AgentRequest is one request to an agent.
type AgentRequest struct {
	ID        uint64                  `json:"id"`
	Op        string                  `json:"op"`
	Container string                  `json:"container,omitempty"` // the CRI id: containerd://ID
	PodIP     string                  `json:"pod_ip,omitempty"`    // start
	Hostname  string                  `json:"hostname,omitempty"`  // start
	Hosts     []planner.Host          `json:"hosts,omitempty"`     // hosts
	Content   string                  `json:"content,omitempty"`   // ready
	Signal    int                     `json:"signal,omitempty"`    // signal
	Lab       string                  `json:"lab,omitempty"`       // step, down
	Step      *planner.Step           `json:"step,omitempty"`      // step
	Nodes     map[string]AgentStepEnd `json:"nodes,omitempty"`     // step: its nodes
	VNI       int                     `json:"vni,omitempty"`       // step: a link's tunnel VNI
	Bridge    *planner.Bridge         `json:"bridge,omitempty"`    // step: a port's network's bridge
	Isolate   *planner.Isolate        `json:"isolate,omitempty"`   // step: a port's lab's isolation
	Local     netip.Addr              `json:"local,omitzero"`      // step: a port's: the agent's host's address
	Peers     []netip.Addr            `json:"peers,omitempty"`     // step: a port's: the other hosts' addresses
	Node      string                  `json:"node,omitempty"`      // link
	Iface     string                  `json:"iface,omitempty"`     // link
	Up        bool                    `json:"up,omitempty"`        // link
	Probe     json.RawMessage         `json:"probe,omitempty"`     // probe: a checks.RemoteProbe
}

// AgentStepEnd is a node of a step: its container, where it runs, and
// whether it runs on the agent's host.
type AgentStepEnd struct {
	Container string       `json:"container"`
	Place     engine.Place `json:"place"`
	Here      bool         `json:"here"`
}

// AgentReply answers the request of the same id.
type AgentReply struct {
	ID       uint64       `json:"id"`
	Pid      int          `json:"pid,omitempty"` // on the agent's host (not this machine's)
	NetNS    string       `json:"netns,omitempty"`
	Changed  bool         `json:"changed,omitempty"`
	Notes    []string     `json:"notes,omitempty"`
	Ifaces   []wire.Iface `json:"ifaces,omitempty"`
	Gateways []string     `json:"gateways,omitempty"`
	Where    string       `json:"where,omitempty"`  // link: "host side" or "in the node"
	OK       bool         `json:"ok,omitempty"`     // probe: it succeeded
	Detail   string       `json:"detail,omitempty"` // probe: what it saw
	Error    string       `json:"error,omitempty"`
}

// AgentHello is an agent's first line.
type AgentHello struct {
	Protocol int    `json:"protocol"`
	Host     string `json:"host"`
}

// agentConn is a session with one host's agent.
type agentConn struct {
	host   string
	pod    string
	in     *io.PipeWriter
	cancel context.CancelFunc
	wmu    sync.Mutex // one request written at a time

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan AgentReply
	err     error // why the session ended: every call fails with it
	stderr  bytes.Buffer
}

// agent is the session with the agent of host, opened on first use and
// again once it ended.
func (r *Runtime) agent(ctx context.Context, host string) (*agentConn, error) {
	r.agentMu.Lock()
	defer r.agentMu.Unlock()
	if c := r.agents[host]; c != nil && c.alive() {
		return c, nil
	}
	at, err := r.target(ctx, host)
	if err != nil {
		return nil, err
	}
	c, err := r.openAgent(ctx, host, at)
	if err != nil {
		return nil, err
	}
	if r.agents == nil {
		r.agents = map[string]*agentConn{}
	}
	r.agents[host] = c
	return c, nil
}

// agentPods are the agent's running pods (fields: a field selector, ""
// for all).
func (r *Runtime) agentPods(ctx context.Context, fields string) ([]corev1.Pod, error) {
	pods, err := r.core.Pods(AgentNamespace).List(ctx, metav1.ListOptions{LabelSelector: AgentSelector, FieldSelector: fields})
	if err != nil {
		return nil, fmt.Errorf("netlab's agents: %w", err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && runningContainer(&p, agentContainer) != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// agentPod is the running agent pod of host.
func (r *Runtime) agentPod(ctx context.Context, host string) (string, error) {
	pods, err := r.agentPods(ctx, "spec.nodeName="+host)
	if err != nil {
		return "", err
	}
	if len(pods) == 0 {
		return "", fmt.Errorf("no netlab agent runs on host %s (pods %s in namespace %s): deploy it, kubectl apply -f k8s/agent.yaml (docs/kubernetes.md, the agent)", host, AgentSelector, AgentNamespace)
	}
	return pods[0].Name, nil
}

// openAgent starts a session in the agent's pod and reads its hello.
func (r *Runtime) openAgent(ctx context.Context, host string, at agentTarget) (*agentConn, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sctx, cancel := context.WithCancel(context.Background())
	c := &agentConn{host: host, pod: at.pod, in: inW, cancel: cancel, pending: map[uint64]chan AgentReply{}}
	go func() {
		err := r.stream(sctx, at.ns, at.pod, at.container, AgentCommand,
			remotecommand.StreamOptions{Stdin: inR, Stdout: outW, Stderr: &syncWriter{mu: &c.mu, w: &c.stderr}})
		if err == nil {
			err = errors.New("it ended")
		}
		outW.CloseWithError(err)
		inR.CloseWithError(err)
	}()
	return c, c.start(ctx, outR, 30*time.Second)
}

// start reads the agent's hello from out, within wait, and then its
// replies until the session ends.
func (c *agentConn) start(ctx context.Context, out io.Reader, wait time.Duration) error {
	hello := make(chan error, 1)
	go c.read(json.NewDecoder(out), hello)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case err = <-hello:
	case <-ctx.Done():
		err = c.fail(ctx.Err())
	case <-timer.C:
		err = c.fail(fmt.Errorf("no answer within %s", wait))
	}
	return err
}

// read takes the agent's hello, then its replies, until the session ends.
func (c *agentConn) read(dec *json.Decoder, hello chan<- error) {
	var h AgentHello
	if err := dec.Decode(&h); err != nil {
		hello <- c.fail(fmt.Errorf("read its hello: %w", err))
		return
	}
	if h.Protocol != AgentProtocol {
		hello <- c.fail(fmt.Errorf("it speaks protocol %d, this netlab %d: run the agent's image of this build of netlab (docs/kubernetes.md, the agent)", h.Protocol, AgentProtocol))
		return
	}
	hello <- nil
	for {
		var rep AgentReply
		if err := dec.Decode(&rep); err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		ch := c.pending[rep.ID]
		delete(c.pending, rep.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
}

// fail ends the session: pending and later calls fail with err, and what
// the agent wrote on its stderr.
func (c *agentConn) fail(err error) error {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		msg := bytes.TrimSpace(c.stderr.Bytes())
		if len(msg) > 0 {
			err = fmt.Errorf("%w (its stderr: %s)", err, msg)
		}
		c.err = fmt.Errorf("netlab's agent on host %s (pod %s): %w", c.host, c.pod, err)
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	return c.err
}

func (c *agentConn) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

// call sends req and waits for its reply; an error the agent answered is
// returned as an error.
func (c *agentConn) call(ctx context.Context, req AgentRequest) (AgentReply, error) {
	c.mu.Lock()
	if c.err != nil {
		defer c.mu.Unlock()
		return AgentReply{}, c.err
	}
	c.next++
	req.ID = c.next
	ch := make(chan AgentReply, 1)
	c.pending[req.ID] = ch
	c.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return AgentReply{}, err
	}
	c.wmu.Lock()
	_, err = c.in.Write(append(line, '\n'))
	c.wmu.Unlock()
	if err != nil {
		return AgentReply{}, c.fail(fmt.Errorf("send a request: %w", err))
	}
	select {
	case rep, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return AgentReply{}, c.err
		}
		if rep.Error != "" {
			return rep, errors.New(rep.Error)
		}
		return rep, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, req.ID)
		c.mu.Unlock()
		return AgentReply{}, fmt.Errorf("netlab's agent on host %s: %s: %w", c.host, req.Op, ctx.Err())
	}
}

// syncWriter writes to w under mu.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// runningContainer is the CRI id of the pod's container of that name
// while it runs, else "".
func runningContainer(pod *corev1.Pod, name string) string {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == name && s.State.Running != nil {
			return s.ContainerID
		}
	}
	return ""
}
