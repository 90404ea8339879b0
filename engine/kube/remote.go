package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/tools/remotecommand"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// What the runtime asks of the agents (agent.go has the sessions): the
// steps of an up, and for a node on another host what netlab otherwise
// does in its namespaces itself (engine.Agents).

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

// forget drops the node's pod from the caches of running pods (r.pods,
// r.started).
func (r *Runtime) forget(id string) {
	r.agentMu.Lock()
	delete(r.pods, id)
	delete(r.started, id)
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
		if len(hosts) > 0 && ownHost(hosts[0]) {
			// Each request sets its pod's span's peers whole: the
			// network's requests go one port at a time, each with the
			// members as they are then, so that the last sets every
			// member's peers to every other member.
			unlock := r.spanLock(w.Lab, w.Bridge.Name)
			defer unlock()
			var members map[string]string
			if w.Members != nil {
				members = w.Members()
			}
			addrs = r.memberHosts(ctx, members)
			for h := range addrs {
				if s.Kind == planner.KindPort && !slices.Contains(hosts, h) {
					hosts = append(hosts, h) // their spans reach this port's pod
				}
			}
		} else if addrs, err = r.agentHosts(ctx); err != nil {
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

// agentHosts are the hosts that run an agent, and their addresses (an
// agent's pod has its host's network: its address is the host's).
func (r *Runtime) agentHosts(ctx context.Context) (map[string]netip.Addr, error) {
	pods, err := r.agentPods(ctx, "")
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

// spanLock takes the lock of a lab network's spans, where each pod is a
// host of its own, and returns its release.
func (r *Runtime) spanLock(lab, bridge string) func() {
	r.agentMu.Lock()
	if r.spans == nil {
		r.spans = map[string]*sync.Mutex{}
	}
	mu := r.spans[lab+"/"+bridge]
	if mu == nil {
		mu = &sync.Mutex{}
		r.spans[lab+"/"+bridge] = mu
	}
	r.agentMu.Unlock()
	mu.Lock()
	return mu.Unlock
}

// memberHosts are the hosts of a network's members that run, where each
// pod is a host of its own, and their addresses: a port's request goes to
// each, so that every member's span reaches every other (a member not
// running yet reaches the others by its own port's request).
func (r *Runtime) memberHosts(ctx context.Context, members map[string]string) map[string]netip.Addr {
	out := map[string]netip.Addr{}
	for _, id := range members {
		if p, err := r.runningPod(ctx, id); err == nil && ownHost(p.place.Host) {
			out[p.place.Host] = p.place.Addr
		}
	}
	return out
}

// agentsDown has every agent remove what it made on its host for the lab
// (bridges, spans, rules): the lab's namespace is gone, and with it what
// the agents made in its pods.
func (r *Runtime) agentsDown(ctx context.Context, lab string) error {
	pods, err := r.agentPods(ctx, "")
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
	rep, err := r.callAgent(ctx, id, AgentRequest{Op: AgentRead})
	return rep.Ifaces, rep.Gateways, err
}

// callAgent sends req, about node id's container, to the agent of the
// node's host.
func (r *Runtime) callAgent(ctx context.Context, id string, req AgentRequest) (AgentReply, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return AgentReply{}, err
	}
	c, err := r.agent(ctx, agentHost(pod))
	if err != nil {
		return AgentReply{}, err
	}
	req.Container = runningContainer(pod, containerName)
	return c.call(ctx, req)
}

// SetRemoteLink sets a node's interface down or up through its host's
// agent: the host side of its port on a network, else in the node.
func (r *Runtime) SetRemoteLink(ctx context.Context, id, lab, node, iface string, up bool) (string, bool, error) {
	rep, err := r.callAgent(ctx, id, AgentRequest{Op: AgentLink, Lab: lab, Node: node, Iface: iface, Up: up})
	return rep.Where, rep.Changed, err
}

// UnplugRemote deletes a node's interfaces through its host's agent.
func (r *Runtime) UnplugRemote(ctx context.Context, id string) error {
	_, err := r.callAgent(ctx, id, AgentRequest{Op: AgentUnplug})
	return err
}

// DialRemote connects to a node's TCP or UDP port through its host's
// agent: an exec of its own into the agent's pod (AgentDialCommand, with
// "udp" after it for UDP), whose stdin and stdout are the connection.
func (r *Runtime) DialRemote(ctx context.Context, id, network string, addrs []netip.Addr, port int) (io.ReadWriteCloser, error) {
	if network != "tcp" && network != "udp" {
		return nil, fmt.Errorf("dial %s: tcp or udp", network)
	}
	return r.agentExec(ctx, id, func(cid string) []string {
		argv := slices.Clone(AgentDialCommand)
		if network == "udp" {
			argv = append(argv, "udp")
		}
		argv = append(argv, cid, strconv.Itoa(port))
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
	host := agentHost(pod)
	at, err := r.target(ctx, host)
	if err != nil {
		return nil, err
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	var mu sync.Mutex
	go func() {
		err := r.stream(sctx, at.ns, at.pod, at.container, argv(cid),
			remotecommand.StreamOptions{Stdin: inR, Stdout: outW, Stderr: &syncWriter{mu: &mu, w: &stderr}})
		mu.Lock()
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("netlab's agent on host %s: %s", host, msg)
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
	rep, err := r.callAgent(ctx, id, AgentRequest{Op: AgentProbe, Probe: probe})
	return rep.OK, rep.Detail, err
}
