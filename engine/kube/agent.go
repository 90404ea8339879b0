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
	"slices"
	"strconv"
	"strings"
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
	pods, err := r.core.Pods(AgentNamespace).List(ctx, metav1.ListOptions{LabelSelector: AgentSelector, FieldSelector: "spec.nodeName=" + host})
	if err != nil {
		return nil, fmt.Errorf("netlab's agent on host %s: %w", host, err)
	}
	var pod *corev1.Pod
	for i, p := range pods.Items {
		if p.DeletionTimestamp == nil && runningContainer(&p, agentContainer) != "" {
			pod = &pods.Items[i]
		}
	}
	if pod == nil {
		return nil, fmt.Errorf("no netlab agent runs on host %s (pods %s in namespace %s): deploy it, kubectl apply -f k8s/agent.yaml (docs/kubernetes.md, the agent)", host, AgentSelector, AgentNamespace)
	}
	c, err := r.openAgent(ctx, host, pod.Name)
	if err != nil {
		return nil, err
	}
	if r.agents == nil {
		r.agents = map[string]*agentConn{}
	}
	r.agents[host] = c
	return c, nil
}

// openAgent starts a session in the agent's pod and reads its hello.
func (r *Runtime) openAgent(ctx context.Context, host, pod string) (*agentConn, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sctx, cancel := context.WithCancel(context.Background())
	c := &agentConn{host: host, pod: pod, in: inW, cancel: cancel, pending: map[uint64]chan AgentReply{}}
	go func() {
		err := r.stream(sctx, AgentNamespace, pod, agentContainer, AgentCommand,
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

// running is what a step through the agents needs of a running pod.
type running struct {
	cid   string // its container's CRI id
	place engine.Place
}

// runningPod is the node's running pod, from the cache the runtime keeps
// of them for the steps through the agents (forget drops a node from it,
// as the runtime's own changes of a pod do).
func (r *Runtime) runningPod(ctx context.Context, id string) (running, error) {
	r.agentMu.Lock()
	p, ok := r.pods[id]
	r.agentMu.Unlock()
	if ok {
		return p, nil
	}
	pod, err := r.pod(ctx, id)
	if err != nil {
		return p, err
	}
	if p.cid = runningContainer(pod, containerName); p.cid == "" {
		return p, fmt.Errorf("pod %s does not run (%s)", id, waitingReason(pod))
	}
	if p.place, err = placeOf(id, pod); err != nil {
		return p, err
	}
	r.agentMu.Lock()
	if r.pods == nil {
		r.pods = map[string]running{}
	}
	r.pods[id] = p
	r.agentMu.Unlock()
	return p, nil
}

// forget drops the node's pod from the cache of running pods.
func (r *Runtime) forget(id string) {
	r.agentMu.Lock()
	delete(r.pods, id)
	r.agentMu.Unlock()
}

// AgentStep carries out a step on the nodes' hosts by their agents: on
// each host that runs one of the step's nodes (a link across hosts: both).
// A port's request says the host's address and the other agents' hosts',
// between which its network's bridges are joined.
func (r *Runtime) AgentStep(ctx context.Context, w engine.AgentStep) (bool, []string, error) {
	changed, notes, err := r.agentStep(ctx, w)
	if err != nil && strings.Contains(err.Error(), notHere) {
		// A pod made again since it was cached: once more, afresh.
		for _, id := range w.Nodes {
			r.forget(id)
		}
		return r.agentStep(ctx, w)
	}
	return changed, notes, err
}

// notHere is what an agent says of a container that is not on its host.
const notHere = "does not run on this host"

func (r *Runtime) agentStep(ctx context.Context, w engine.AgentStep) (bool, []string, error) {
	s := w.Step
	ends := map[string]AgentStepEnd{}
	var hosts []string
	for name, id := range w.Nodes {
		p, err := r.runningPod(ctx, id)
		if err != nil {
			return false, nil, fmt.Errorf("step %s: %w", s.ID, err)
		}
		ends[name] = AgentStepEnd{Container: p.cid, Place: p.place}
		if !slices.Contains(hosts, p.place.Host) {
			hosts = append(hosts, p.place.Host)
		}
	}
	var addrs map[string]netip.Addr
	if w.Bridge != nil {
		var err error
		if addrs, err = r.agentHosts(ctx); err != nil {
			return false, nil, err
		}
	}
	type result struct {
		rep AgentReply
		err error
	}
	results := make([]result, len(hosts))
	var wg sync.WaitGroup
	for i, host := range hosts {
		req := AgentRequest{Op: AgentStepOp, Lab: w.Lab, Step: s, VNI: w.VNI, Bridge: w.Bridge, Isolate: w.Isolate, Nodes: map[string]AgentStepEnd{}}
		for name, end := range ends {
			end.Here = end.Place.Host == host
			req.Nodes[name] = end
		}
		if w.Bridge != nil {
			for h, a := range addrs {
				if h == host {
					req.Local = a
				} else {
					req.Peers = append(req.Peers, a)
				}
			}
			slices.SortFunc(req.Peers, netip.Addr.Compare)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.agent(ctx, host)
			if err == nil {
				results[i].rep, err = c.call(ctx, req)
			}
			results[i].err = err
		}()
	}
	wg.Wait()
	changed := false
	var notes []string
	var errs []error
	for _, res := range results {
		changed = changed || res.rep.Changed
		notes = append(notes, res.rep.Notes...)
		if res.err != nil {
			errs = append(errs, res.err)
		}
	}
	return changed, notes, errors.Join(errs...)
}

// agentPods are the agent's running pods.
func (r *Runtime) agentPods(ctx context.Context) ([]corev1.Pod, error) {
	pods, err := r.core.Pods(AgentNamespace).List(ctx, metav1.ListOptions{LabelSelector: AgentSelector})
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

// agentHosts are the hosts that run an agent, and their addresses (an
// agent's pod has its host's network: its address is the host's).
func (r *Runtime) agentHosts(ctx context.Context) (map[string]netip.Addr, error) {
	pods, err := r.agentPods(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]netip.Addr{}
	for _, p := range pods {
		if a, err := netip.ParseAddr(p.Status.HostIP); err == nil {
			out[p.Spec.NodeName] = a
		}
	}
	return out, nil
}

// agentsDown has every agent remove what it made on its host for the lab
// (bridges, spans, rules): the lab's namespace is gone, and with it what
// the agents made in its pods.
func (r *Runtime) agentsDown(ctx context.Context, lab string) error {
	pods, err := r.agentPods(ctx)
	if err != nil {
		return err
	}
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.agent(ctx, p.Spec.NodeName)
			if err == nil {
				_, err = c.call(ctx, AgentRequest{Op: AgentDown, Lab: lab})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ReadRemote reads the interfaces and default gateways of a node that runs
// on another host, through its host's agent.
func (r *Runtime) ReadRemote(ctx context.Context, id string) ([]wire.Iface, []string, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := r.agent(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, nil, err
	}
	rep, err := c.call(ctx, AgentRequest{Op: AgentRead, Container: runningContainer(pod, containerName)})
	return rep.Ifaces, rep.Gateways, err
}

// SetRemoteLink sets a node's interface down or up through its host's
// agent: the host side of its port on a network, else in the node.
func (r *Runtime) SetRemoteLink(ctx context.Context, id, lab, node, iface string, up bool) (string, bool, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return "", false, err
	}
	c, err := r.agent(ctx, pod.Spec.NodeName)
	if err != nil {
		return "", false, err
	}
	rep, err := c.call(ctx, AgentRequest{Op: AgentLink, Container: runningContainer(pod, containerName), Lab: lab, Node: node, Iface: iface, Up: up})
	return rep.Where, rep.Changed, err
}

// UnplugRemote deletes a node's interfaces through its host's agent.
func (r *Runtime) UnplugRemote(ctx context.Context, id string) error {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return err
	}
	c, err := r.agent(ctx, pod.Spec.NodeName)
	if err == nil {
		_, err = c.call(ctx, AgentRequest{Op: AgentUnplug, Container: runningContainer(pod, containerName)})
	}
	return err
}

// DialRemote connects to a node's TCP port through its host's agent: an
// exec of its own into the agent's pod (AgentDialCommand), whose stdin and
// stdout are the connection.
func (r *Runtime) DialRemote(ctx context.Context, id string, addrs []netip.Addr, port int) (io.ReadWriteCloser, error) {
	return r.agentExec(ctx, id, func(cid string) []string {
		argv := append(slices.Clone(AgentDialCommand), cid, strconv.Itoa(port))
		for _, a := range addrs {
			argv = append(argv, a.String())
		}
		return argv
	})
}

// CaptureRemote captures on a node's interface through its host's agent:
// an exec of its own into the agent's pod (AgentCaptureCommand), whose
// stdout is the pcap stream; closing it ends the agent's capture.
func (r *Runtime) CaptureRemote(ctx context.Context, id, iface, filter string) (io.ReadCloser, error) {
	return r.agentExec(ctx, id, func(cid string) []string {
		argv := append(slices.Clone(AgentCaptureCommand), cid, iface)
		if filter != "" {
			argv = append(argv, filter)
		}
		return argv
	})
}

// agentExec runs the command argv(the node's container id) in the agent
// of the node's host, its stdin and stdout the connection returned.
func (r *Runtime) agentExec(ctx context.Context, id string, argv func(cid string) []string) (*remoteConn, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return nil, err
	}
	cid := runningContainer(pod, containerName)
	if cid == "" {
		return nil, fmt.Errorf("pod %s does not run (%s)", id, waitingReason(pod))
	}
	agents, err := r.agentPods(ctx)
	if err != nil {
		return nil, err
	}
	var agent string
	for _, p := range agents {
		if p.Spec.NodeName == pod.Spec.NodeName {
			agent = p.Name
		}
	}
	if agent == "" {
		return nil, fmt.Errorf("no netlab agent runs on host %s, where pod %s runs", pod.Spec.NodeName, id)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	var mu sync.Mutex
	go func() {
		err := r.stream(sctx, AgentNamespace, agent, agentContainer, argv(cid),
			remotecommand.StreamOptions{Stdin: inR, Stdout: outW, Stderr: &syncWriter{mu: &mu, w: &stderr}})
		mu.Lock()
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("netlab's agent on host %s: %s", pod.Spec.NodeName, msg)
		}
		mu.Unlock()
		if err == nil {
			err = io.EOF
		}
		outW.CloseWithError(err)
		inR.CloseWithError(err)
	}()
	return &remoteConn{in: inW, out: outR, cancel: cancel}, nil
}

// AgentDialCommand is what netlab runs in an agent's container to reach a
// node's port: the container's id, the port and the addresses follow.
var AgentDialCommand = []string{"/netlab", "_agent", "dial"}

// AgentCaptureCommand is what netlab runs in an agent's container to
// capture on a node's interface: the container's id, the interface and
// the filter's program (tcpdump -ddd's text) follow.
var AgentCaptureCommand = []string{"/netlab", "_agent", "capture"}

// remoteConn is a connection through an agent's exec.
type remoteConn struct {
	in     *io.PipeWriter
	out    *io.PipeReader
	cancel context.CancelFunc
}

func (c *remoteConn) Read(p []byte) (int, error)  { return c.out.Read(p) }
func (c *remoteConn) Write(p []byte) (int, error) { return c.in.Write(p) }
func (c *remoteConn) CloseWrite() error           { return c.in.Close() }
func (c *remoteConn) Close() error {
	c.cancel()
	c.in.Close()
	return c.out.Close()
}

// ProbeRemote makes a check's network probe in a node's namespace through
// its host's agent.
func (r *Runtime) ProbeRemote(ctx context.Context, id string, probe json.RawMessage) (bool, string, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return false, "", err
	}
	c, err := r.agent(ctx, pod.Spec.NodeName)
	if err != nil {
		return false, "", err
	}
	rep, err := c.call(ctx, AgentRequest{Op: AgentProbe, Container: runningContainer(pod, containerName), Probe: probe})
	return rep.OK, rep.Detail, err
}
