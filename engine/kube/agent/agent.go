//go:build !nokube

// Package agent is netlab's agent on a host of a Kubernetes cluster: a
// DaemonSet's pod (k8s/agent.yaml: host network, host PID) whose container
// runs netlab itself. It wires its host's pods for the netlab that sends it
// requests, over an exec session into its pod (engine/kube's agent.go has
// the protocol): it finds a pod's process by its container's id among its
// host's processes and carries out the wiring steps that concern it
// (steps.OnHost), as netlab does itself where it shares a kernel with the
// pods. It also installs netlab's init on its host, which the pods bind.
package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/kube"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/steps"
	"github.com/netlab/netlab/wire"
)

// maxRequest bounds one request's line (a step's payload: a firewall's
// rules are the largest).
const maxRequest = 16 << 20

// Main runs the agent's command: "idle" is the pod's own process (it
// installs netlab's init on the host, then waits to be stopped); in a pod
// that carries its own agent (kube.PodAgentContainer), "install" copies
// netlab's init into the pod and "pod" is the agent's process; "wire" a
// session, requests on stdin and replies on stdout, "dial" a connection to
// a node's TCP port (a published port's), on stdin and stdout, "capture"
// a node's interface, as pcap on stdout until stdin ends.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	switch {
	case err != nil:
	case len(args) == 1 && args[0] == "idle":
		err = idle(ctx, self, stderr)
	case len(args) == 1 && args[0] == "wire":
		err = Serve(ctx, stdin, stdout)
	case len(args) == 1 && args[0] == "pod":
		err = podIdle(ctx, stderr)
	case len(args) == 2 && args[0] == "install":
		err = installInit(self, args[1])
	case len(args) >= 5 && args[0] == "dial" && args[1] == "udp":
		err = dial("udp", args[2], args[3], args[4:], stdin, stdout)
	case len(args) >= 4 && args[0] == "dial":
		err = dial("tcp", args[1], args[2], args[3:], stdin, stdout)
	case (len(args) == 3 || len(args) == 4) && args[0] == "capture":
		err = captureNode(ctx, args[1:], stdin, stdout)
	default:
		err = errors.New("usage: netlab _agent idle|pod|install DIR|wire|dial [udp] CONTAINER PORT ADDR...|capture CONTAINER IFACE [FILTER]")
	}
	if err != nil {
		fmt.Fprintf(stderr, "netlab agent: %v\n", err)
		return 1
	}
	return 0
}

// idle installs this build's init where the host's pods bind it
// (engine.InitDir, the host's through a host path), then waits for SIGTERM.
func idle(ctx context.Context, self string, stderr io.Writer) error {
	inst, release, err := engine.InstallInit(self)
	if err != nil {
		return err
	}
	release()
	// The host's span guard lives as long as its agent: no pod of the
	// host sends into a lab network's span, here or on another host.
	spans := func() []netip.Addr {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil
		}
		defer h.Close()
		hosts, _ := wire.SpanHosts(h)
		return hosts
	}
	if err := wire.EnsureSpanGuard(nil, spans()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "netlab agent on %s: init at %s, span guard (inet %s); waiting for requests\n", hostName(), inst.Init, wire.SpanGuardTable)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if len(spans()) > 0 {
		return nil
	}
	return wire.RemoveSpanGuard(nil)
}

// inPod tells whether this agent is a pod's own (kube.PodAgentContainer):
// it wires that pod only, whose network namespace it shares; its first
// process (PID 1 here) stands for the node's.
func inPod() bool { return os.Getenv(kube.PodAgentEnv) == "1" }

// podIdle is a pod's own agent's first process: it waits for SIGTERM,
// and reaps what its sessions started and left (a relay, a DHCP server:
// their parent, the session's exec, ends before them).
func podIdle(ctx context.Context, stderr io.Writer) error {
	fmt.Fprintf(stderr, "netlab agent of pod %s on host %s: waiting for requests\n", os.Getenv("POD_NAME"), hostName())
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGTERM {
				return nil
			}
			for {
				var ws syscall.WaitStatus
				if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}

// installInit copies netlab's init, beside this program, into dir (the
// pod's volume that the node's container binds it from).
func installInit(self, dir string) error {
	src, err := os.ReadFile(filepath.Join(filepath.Dir(self), "netlab-init"))
	if err != nil {
		return fmt.Errorf("netlab's init: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".init"), src, 0o755); err != nil {
		return fmt.Errorf("install netlab's init: %w", err)
	}
	return os.Rename(filepath.Join(dir, ".init"), filepath.Join(dir, "init"))
}

// hostName is the cluster's name of the agent's host: NODE_NAME, from the
// pod's spec (the DaemonSet sets it), else the host name.
func hostName() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}

// Serve answers requests read from in, one JSON line each, on out, after a
// first line that says the agent's protocol. Requests run concurrently
// (an up sends a node's steps as its plan allows); it returns when in ends.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	if err := enc.Encode(kube.AgentHello{Protocol: kube.AgentProtocol, Host: hostName()}); err != nil {
		return err
	}
	a := &agent{pids: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxRequest)
	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var req kube.AgentRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("read a request: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := a.handle(ctx, &req)
			rep.ID = req.ID
			if err != nil {
				rep.Error = fmt.Sprintf("netlab's agent on host %s: %v", hostName(), err)
			}
			mu.Lock()
			defer mu.Unlock()
			enc.Encode(rep)
		}()
	}
	return sc.Err()
}

type agent struct {
	mu   sync.Mutex
	pids map[string]int // container id -> its first process, as found before
}

// pid is the first process of the container on this host, and its
// instance: the one found before while it still is (a search of the
// host's processes reads two files of each).
func (a *agent) pid(cid string) (int, string, error) {
	a.mu.Lock()
	pid, ok := a.pids[cid]
	a.mu.Unlock()
	if ok && kube.IsContainerPid(pid, cid) {
		if inst, err := nodeinit.Instance(strconv.Itoa(pid)); err == nil {
			return pid, inst, nil
		}
	}
	pid, netns, err := here(cid)
	if err == nil {
		a.mu.Lock()
		a.pids[cid] = pid
		a.mu.Unlock()
	}
	return pid, netns, err
}

func (a *agent) handle(ctx context.Context, req *kube.AgentRequest) (kube.AgentReply, error) {
	var rep kube.AgentReply
	switch req.Op {
	case kube.AgentStepOp:
		return a.step(ctx, req)
	case kube.AgentDown:
		return down(req.Lab)
	}
	pid, netns, err := a.pid(req.Container)
	if err != nil {
		return rep, err
	}
	switch req.Op {
	case kube.AgentNode:
		rep.Pid, rep.NetNS = pid, netns
	case kube.AgentProbe:
		var rp checks.RemoteProbe
		if err = json.Unmarshal(req.Probe, &rp); err == nil {
			p := &checks.NetProber{Nodes: &hostNode{name: rp.Node, pid: pid}}
			out := p.Probe(ctx, rp.Check())
			rep.OK, rep.Detail, err = out.OK, out.Detail, out.Err
		}
	case kube.AgentUnplug:
		var ns *wire.NS
		if ns, err = wire.OpenNS(pid); err == nil {
			err = wire.Unplug(ns)
			ns.Close()
		}
	case kube.AgentLink:
		rep.Where, rep.Changed, err = setLink(pid, req)
	case kube.AgentRead:
		var ns *wire.NS
		if ns, err = wire.OpenNS(pid); err == nil {
			rep.Ifaces, rep.Gateways = wire.ReadNS(ns)
			ns.Close()
		}
	case kube.AgentStart:
		err = kube.FinishStart(pid, req.PodIP, req.Hostname)
	case kube.AgentHosts:
		rep.Changed, err = engine.WriteHostsFile(fmt.Sprintf("/proc/%d/root/etc/hosts", pid), req.Hosts)
	case kube.AgentReady:
		err = kube.WriteReadyFile(pid, req.Content)
	case kube.AgentSignal:
		if inPod() { // PID 1 here is this agent's own
			err = errors.New("a pod's own agent does not see the node's processes: netlab signals the node from inside it")
		} else if err = syscall.Kill(pid, syscall.Signal(req.Signal)); errors.Is(err, syscall.ESRCH) {
			err = nil
		}
	default:
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	return rep, err
}

// step carries out a plan step on the step's nodes that run here.
func (a *agent) step(ctx context.Context, req *kube.AgentRequest) (kube.AgentReply, error) {
	var rep kube.AgentReply
	if req.Step == nil {
		return rep, errors.New("a step request without its step")
	}
	if err := naming.CheckName("lab", req.Lab); err != nil { // it names paths and host interfaces here
		return rep, err
	}
	w := steps.HostStep{
		AgentStep: engine.AgentStep{Lab: req.Lab, Step: req.Step, VNI: req.VNI, Bridge: req.Bridge, Isolate: req.Isolate},
		Host:      hostName(), Nodes: map[string]engine.Node{}, Places: map[string]engine.Place{},
		Span: wire.Span{Local: req.Local, Peers: req.Peers}, OwnPod: inPod(),
	}
	for name, end := range req.Nodes {
		w.Places[name] = end.Place
		if !end.Here {
			continue
		}
		pid, netns, err := a.pid(end.Container)
		if err != nil {
			return rep, fmt.Errorf("node %s: %w", name, err)
		}
		w.Nodes[name] = engine.Node{ID: name, Pid: pid, NetNS: netns}
	}
	if req.Bridge != nil && !req.Local.IsValid() {
		return rep, fmt.Errorf("step %s: the request does not say this host's address", req.Step.ID)
	}
	var err error
	rep.Changed, rep.Notes, err = steps.OnHost(ctx, w)
	return rep, err
}

// down removes what the agent made on this host for the lab.
func down(lab string) (kube.AgentReply, error) {
	var rep kube.AgentReply
	if err := naming.CheckName("lab", lab); err != nil {
		return rep, err
	}
	stopped := hostproc.StopAll(lab) // the relays of its impaired links
	links, rules, err := wire.RemoveLabHost(lab)
	err = errors.Join(stopped, err, engine.RemoveRunDir(lab))
	if links+rules > 0 {
		rep.Changed = true
		rep.Notes = []string{fmt.Sprintf("lab %s on host %s: %d host interfaces and %d firewall rules removed", lab, hostName(), links, rules)}
	}
	return rep, err
}

// setLink sets a node's interface down or up: the host side of its port
// when it is on a network (its cable pulled), else in the node.
func setLink(pid int, req *kube.AgentRequest) (string, bool, error) {
	h, where := (*netlink.Handle)(nil), "host side"
	l, err := netlink.LinkByName(naming.Port(req.Lab, req.Node, req.Iface))
	if err != nil || !naming.OwnedBy(l.Attrs().Alias, req.Lab) {
		ns, err := wire.OpenNS(pid)
		if err != nil {
			return "", false, err
		}
		defer ns.Close()
		h, where = ns.Handle(), "in the node"
		if l, err = h.LinkByName(req.Iface); err != nil {
			return "", false, fmt.Errorf("node %s has no interface %q", req.Node, req.Iface)
		}
	}
	if (l.Attrs().Flags&net.FlagUp != 0) == req.Up {
		return where, false, nil
	}
	set := netlink.LinkSetDown
	if h != nil {
		set = h.LinkSetDown
	}
	if req.Up {
		set = netlink.LinkSetUp
		if h != nil {
			set = h.LinkSetUp
		}
	}
	if err := set(l); err != nil {
		return where, false, fmt.Errorf("set %s of node %s up %v: %w", req.Iface, req.Node, req.Up, err)
	}
	return where, true, nil
}

// dial connects to TCP port at the first of addrs that answers, in the
// network namespace of the container cid, and copies stdin to it and what
// it answers to stdout, until it closes. For UDP, stdin and stdout carry
// datagrams (hostproc.ServeUDP).
func dial(network, cid, port string, addrs []string, stdin io.Reader, stdout io.Writer) error {
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	var to []netip.Addr
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("address %q: %w", a, err)
		}
		to = append(to, ip)
	}
	pid, _, err := here(cid)
	if err != nil {
		return err
	}
	if network == "udp" {
		return hostproc.ServeUDP(pid, to, p, stdin, stdout)
	}
	conn, err := hostproc.DialNode(pid, "tcp", to, p)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		io.Copy(conn, stdin)
		if c, ok := conn.(interface{ CloseWrite() error }); ok {
			c.CloseWrite()
		}
	}()
	_, err = io.Copy(stdout, conn)
	return err
}

// hostNode is the one node of a probe, for checks.NetProber: its
// namespace and files by its process on this host.
type hostNode struct {
	name string
	pid  int
}

func (n *hostNode) NetNS(_ context.Context, node string) (netns.NsHandle, error) {
	if node != n.name {
		return netns.None(), fmt.Errorf("node %s is not this probe's (%s)", node, n.name)
	}
	return netns.GetFromPid(n.pid)
}

func (n *hostNode) ReadFile(_ context.Context, node, path string) ([]byte, error) {
	if node != n.name {
		return nil, fmt.Errorf("node %s is not this probe's (%s)", node, n.name)
	}
	return checks.ReadNodeFile(n.pid, path, checks.MaxNodeFile)
}

func (n *hostNode) Exec(context.Context, string, string) ([]byte, int, error) {
	return nil, 0, errors.New("an agent runs no command in a node: netlab does, through the API")
}

// captureNode captures on a node's interface (args: its container's id,
// the interface, the filter's program as tcpdump -ddd prints it) and
// writes pcap to stdout until stdin ends (netlab stopped reading) or the
// node stops or restarts.
func captureNode(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	var prog []bpf.RawInstruction
	if len(args) == 3 {
		p, err := capture.ParseDDD(args[2])
		if err != nil {
			return fmt.Errorf("filter: %w", err)
		}
		prog = p
	}
	pid, _, err := here(args[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { io.Copy(io.Discard, stdin); cancel() }()
	return capture.StreamNode(ctx, pid, args[1], prog, stdout)
}

// podInstance is the instance of the node's init, which it writes into the
// ready directory this agent shares once it starts: waited for at most
// wait.
func podInstance(wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(nodeinit.ReadyDir + "/" + nodeinit.InstanceFile)
		if err == nil && len(b) > 0 {
			return string(b), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the node's init did not say its instance within %s (%s/%s): %v", wait, nodeinit.ReadyDir, nodeinit.InstanceFile, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// here finds the first process of the container on this host, and its
// instance; a container elsewhere is an error. A pod's own agent stands
// its own first process for the node's: it shares the pod's network
// namespace, ready directory, /etc/hosts and host name.
func here(cid string) (int, string, error) {
	if inPod() {
		inst, err := podInstance(30 * time.Second)
		return 1, inst, err
	}
	pid, netns, err := kube.LocalNode(cid)
	if err == nil && pid == 0 {
		err = fmt.Errorf("container %s does not run on this host", cid)
	}
	return pid, netns, err
}
