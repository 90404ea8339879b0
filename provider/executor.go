// Package provider carries out a lab's life on this host by calling the
// packages that do each part: engine (the nodes' runtimes), wire (netlink
// and nftables) and hostproc (the helper processes). It holds what ties
// them together for now: the step executor that carries out a plan,
// Observe and Remove for up's convergence, Down, Status, and the lab's
// watcher.
package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// leaseTimeout is how long up waits for a node's lease from netlab's DHCP
// server: its init asks once the node is released, and the server runs.
const leaseTimeout = 30 * time.Second

// Executor carries out a plan's steps for one lab. Every step is
// ensure-style: it does what is missing and reports whether it changed
// anything, so that running a plan again repairs a lab and changes nothing
// on one that is whole.
type Executor struct {
	rt   engine.Runtime // the lab's runtime
	plan *planner.Plan
	bins engine.Installed // netlab for the helpers, netlab-init for the nodes
	host *netlink.Handle

	ifaces map[string][]planner.VethEnd // node -> the interfaces the plan puts in it

	mu       sync.Mutex
	existing map[string]engine.Container // node -> container found before the run
	nodes    map[string]*running         // node -> started container
	started  map[string]bool             // nodes whose process this run started
}

type running struct {
	engine.Node
	ns *wire.NS
}

// NewExecutor prepares to run plan with the build of netlab in bins.
func NewExecutor(ctx context.Context, d engine.Runtime, plan *planner.Plan, bins engine.Installed) (*Executor, error) {
	host, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	list, err := d.List(ctx, plan.Lab)
	if err == nil {
		err = engine.MakeRunDir(plan.Lab)
	}
	if err != nil {
		host.Close()
		return nil, err
	}
	e := &Executor{rt: d, plan: plan, bins: bins, host: host, existing: map[string]engine.Container{}, nodes: map[string]*running{}, started: map[string]bool{},
		ifaces: plan.Interfaces()}
	for _, c := range list {
		e.existing[c.Node] = c
	}
	return e, nil
}

// Close releases namespace handles.
func (e *Executor) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.nodes {
		n.ns.Close()
	}
	e.host.Close()
}

func (e *Executor) node(name string) (*running, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.nodes[name]
	if n == nil {
		return nil, fmt.Errorf("node %s has not been started", name)
	}
	return n, nil
}

// pair returns the namespaces of a link's two nodes.
func (e *Executor) pair(a, b string) (*wire.NS, *wire.NS, error) {
	na, err := e.node(a)
	if err != nil {
		return nil, nil, err
	}
	nb, err := e.node(b)
	if err != nil {
		return nil, nil, err
	}
	return na.ns, nb.ns, nil
}

// Do carries out one step.
func (e *Executor) Do(ctx context.Context, s *planner.Step) (bool, error) {
	lab := e.plan.Lab
	switch s.Kind {
	case planner.KindBridge:
		return wire.EnsureBridge(e.host, s.Bridge)
	case planner.KindHostFW:
		return wire.EnsureHostForward(lab, s.Bridge.Network, s.Bridge.Name)
	case planner.KindCreate:
		e.mu.Lock()
		_, ok := e.existing[s.Node]
		e.mu.Unlock()
		if ok {
			return false, nil
		}
		id, err := e.rt.Create(ctx, lab, s.Container, e.plan.Hosts, e.bins.Init)
		if err != nil {
			return false, err
		}
		e.mu.Lock()
		e.existing[s.Node] = engine.Container{ID: id, Name: s.Container.Name, Node: s.Node}
		e.mu.Unlock()
		return true, nil
	case planner.KindStart:
		return e.start(ctx, s)
	case planner.KindHosts:
		e.mu.Lock()
		c := e.existing[s.Node]
		e.mu.Unlock()
		return e.rt.EnsureHosts(ctx, c.ID, e.plan.Hosts)
	case planner.KindLink:
		a, b, err := e.pair(s.Veth.A.Node, s.Veth.B.Node)
		if err != nil {
			return false, err
		}
		removed, err := hostproc.RemoveRelay(e.host, lab, s.Veth)
		if err != nil {
			return false, err
		}
		changed, err := wire.EnsureLink(e.host, s.Veth, a, b)
		if err != nil {
			return changed || removed, err
		}
		changed, err = withEnd(changed || removed, nil, a, s.Veth.A)
		return withEnd(changed, err, b, s.Veth.B)
	case planner.KindPort:
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		changed, err := wire.EnsurePort(e.host, s.Veth, n.ns)
		return withEnd(changed, err, n.ns, s.Veth.B)
	case planner.KindRelay:
		a, b, err := e.pair(s.Relay.Ends[0].Node, s.Relay.Ends[1].Node)
		if err != nil {
			return false, err
		}
		return hostproc.EnsureRelay(e.host, lab, s.Relay, [2]*wire.NS{a, b}, e.bins.Netlab)
	case planner.KindMacvlan, planner.KindHostLink, planner.KindVLANIf:
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		switch s.Kind {
		case planner.KindMacvlan:
			changed, err := wire.EnsureMacvlan(e.host, s.Macvlan, n.ns)
			return withEnd(changed, err, n.ns, s.Macvlan.End)
		case planner.KindVLANIf:
			changed, err := wire.EnsureVLANIf(n.ns, s.VLANIf)
			return withEnd(changed, err, n.ns, s.VLANIf.End)
		}
		changed, err := wire.EnsureHostLink(e.host, s.Veth, s.HostAddrs, n.ns)
		return withEnd(changed, err, n.ns, s.Veth.B)
	case planner.KindIsolate:
		return wire.EnsureIsolation(s.Isolate)
	case planner.KindAddr, planner.KindRoute, planner.KindNAT, planner.KindFirewall, planner.KindNDPProxy:
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		switch s.Kind {
		case planner.KindAddr:
			return wire.EnsureAddrs(n.ns, s.Addr)
		case planner.KindRoute:
			return wire.EnsureRoute(n.ns, s.Route)
		case planner.KindFirewall:
			return wire.EnsureFirewall(n.ns, s.Firewall)
		case planner.KindNDPProxy:
			return wire.EnsureNDPProxy(n.ns, s.NDPProxy)
		default:
			return wire.EnsureNAT(n.ns, s.NAT)
		}
	case planner.KindPublish:
		return hostproc.EnsureForwarder(lab, s.Node, s.Publish, e.bins.Netlab)
	case planner.KindDHCPD:
		var node *engine.Node
		if s.DHCPD.Node != "" {
			n, err := e.node(s.DHCPD.Node)
			if err != nil {
				return false, err
			}
			node = &n.Node
		}
		return hostproc.EnsureDHCPServer(e.host, lab, s.DHCPD, node, e.bins.Netlab)
	case planner.KindLease:
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		waited, err := wire.WaitLease(ctx, n.ns, s.Lease.Iface, leaseTimeout)
		if err != nil {
			return waited, fmt.Errorf("%w: see netlab logs %s %s (its DHCP client) and %s (the server's log)", err, lab, s.Node,
				filepath.Join(engine.RunDir, lab, "dhcpd-"+s.Lease.Network+".log"))
		}
		return waited, nil
	case planner.KindReady:
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		if err := writeInterfaces(lab, s.Node, e.ifaces[s.Node]); err != nil {
			return false, err
		}
		file := filepath.Join(engine.RunDir, lab, s.Node, engine.ReadyFile)
		if old, err := os.ReadFile(file); err == nil && string(old) == n.NetNS {
			return false, nil
		}
		return true, engine.WriteReady(lab, s.Node, n.NetNS)
	}
	return false, fmt.Errorf("step %s: unknown kind %q", s.ID, s.Kind)
}

func (e *Executor) start(ctx context.Context, s *planner.Step) (bool, error) {
	e.mu.Lock()
	c := e.existing[s.Node]
	e.mu.Unlock()
	n, err := e.rt.Inspect(ctx, c.ID)
	if err != nil {
		return false, err
	}
	changed := false
	if n.Pid == 0 {
		if n, err = e.rt.Start(ctx, c.ID); err != nil {
			return false, err
		}
		changed = true
	}
	ns, err := wire.OpenNS(n.Pid)
	if err != nil {
		return changed, err
	}
	e.mu.Lock()
	if old := e.nodes[s.Node]; old != nil {
		old.ns.Close()
	}
	e.nodes[s.Node] = &running{Node: n, ns: ns}
	if changed {
		e.started[s.Node] = true
	}
	e.mu.Unlock()
	return changed, nil
}

// Started tells whether this run started the node's process: its
// namespaces are new.
func (e *Executor) Started(node string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started[node]
}

// interfacesFile lists, in a node's run directory, the interfaces the lab
// put in it, one a line: status reports those that went missing (a veth
// goes whole when either end is deleted, so nothing else would show it).
const interfacesFile = "interfaces"

func writeInterfaces(lab, node string, ends []planner.VethEnd) error {
	file := filepath.Join(engine.RunDir, lab, node, interfacesFile)
	names := make([]string, len(ends))
	for i, e := range ends {
		names[i] = e.Name
	}
	want := strings.Join(names, "\n")
	if have, err := os.ReadFile(file); err == nil && string(have) == want {
		return nil
	}
	if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
		return fmt.Errorf("record the interfaces of %s: %w", node, err)
	}
	return nil
}

// plannedInterfaces reads what writeInterfaces recorded.
func plannedInterfaces(lab, node string) []string {
	b, err := os.ReadFile(filepath.Join(engine.RunDir, lab, node, interfacesFile))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// withEnd finishes an interface's step: once the interface exists, its
// MAC and MTU as the file gives them.
func withEnd(changed bool, err error, ns *wire.NS, end planner.VethEnd) (bool, error) {
	if err != nil {
		return changed, err
	}
	set, err := wire.EnsureEnd(ns, end)
	return changed || set, err
}
