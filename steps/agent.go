package steps

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// A node that runs where this machine does not enter it (engine.Node's
// Remote: a cluster's other host) is wired by the agent of its host: the
// steps that touch its namespaces go to the runtime (engine.Delegating),
// which sends them to the agent, which carries them out with OnHost.

// inNamespaces are the kinds whose steps touch their nodes' namespaces.
var inNamespaces = map[planner.Kind]bool{
	planner.KindLink: true, planner.KindPort: true, planner.KindMacvlan: true, planner.KindVLANIf: true,
	planner.KindHostLink: true, planner.KindAddr: true, planner.KindRelay: true, planner.KindRoute: true,
	planner.KindNAT: true, planner.KindNDPProxy: true, planner.KindFirewall: true, planner.KindLease: true,
	planner.KindDHCPD: true,
}

// delegable are those of them an agent carries out: those that touch
// nothing but the nodes' namespaces; a port, whose network's bridge the
// agent makes on its host, joined to the network's bridges on the other
// hosts (a span); a relay, which runs in the agent of its first node's
// host; netlab's DHCP server of a network, in its server node or on the
// bridge of the host of the network's first node (DHCPD.Beside), and the
// wait for a node's lease. A host link needs this machine, a macvlan this
// machine's interface.
var delegable = map[planner.Kind]bool{
	planner.KindLink: true, planner.KindPort: true, planner.KindVLANIf: true, planner.KindAddr: true, planner.KindRoute: true,
	planner.KindNAT: true, planner.KindNDPProxy: true, planner.KindFirewall: true, planner.KindRelay: true,
	planner.KindDHCPD: true, planner.KindLease: true,
}

// stepNodes are the nodes whose namespaces a step touches.
func stepNodes(s *planner.Step) []string {
	var out []string
	if s.Node != "" {
		out = append(out, s.Node)
	}
	switch s.Kind {
	case planner.KindLink:
		out = append(out, s.Veth.A.Node, s.Veth.B.Node)
	case planner.KindRelay:
		out = append(out, s.Relay.Ends[0].Node, s.Relay.Ends[1].Node)
	case planner.KindDHCPD:
		if s.DHCPD.Node == "" && s.DHCPD.Beside != "" {
			out = append(out, s.DHCPD.Beside)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// delegate hands the step to the runtime's agents when a node it touches
// is remote; handled is false when this machine carries it out.
func (e *Executor) delegate(ctx context.Context, s *planner.Step) (handled, changed bool, err error) {
	if e.onHost || !inNamespaces[s.Kind] {
		return false, false, nil
	}
	ids := map[string]string{}
	remote := ""
	for _, name := range stepNodes(s) {
		n, err := e.node(name)
		if err != nil {
			return true, false, err
		}
		ids[name] = n.ID
		if n.Remote {
			remote = name
		}
	}
	if remote == "" {
		return false, false, nil
	}
	d, ok := e.rt.(engine.Delegating)
	if !ok || !delegable[s.Kind] {
		return true, false, fmt.Errorf("step %s (%s): node %s runs on another host, wired there by netlab's agent, which does not carry out %s steps yet (docs/kubernetes.md, links across hosts)", s.ID, Describe(s), remote, s.Kind)
	}
	w := engine.AgentStep{Lab: e.plan.Lab, Step: s, Nodes: ids}
	w.VNI = e.vnis[vniKey(s)]
	bridge := ""
	switch {
	case s.Kind == planner.KindPort:
		bridge = s.Veth.Bridge
	case s.Kind == planner.KindDHCPD && s.DHCPD.Node == "":
		bridge = s.DHCPD.Bridge
	}
	if bridge != "" {
		for _, p := range e.plan.Steps {
			if p.Kind == planner.KindBridge && p.Bridge.Name == bridge {
				w.Bridge = p.Bridge
			}
			if p.Kind == planner.KindIsolate {
				w.Isolate = p.Isolate
			}
		}
		if w.Bridge == nil || w.Bridge.External {
			return true, false, fmt.Errorf("step %s: node %s runs on another host: its port on bridge %s needs a lab network's bridge there, not the host's own", s.ID, remote, bridge)
		}
		w.Members = func() map[string]string { return e.members(bridge) }
	}
	changed, notes, err := d.AgentStep(ctx, w)
	for _, n := range notes {
		e.note("%s", n)
	}
	return true, changed, err
}

// members are the nodes with a port on bridge that this run has started,
// by their ids.
func (e *Executor) members(bridge string) map[string]string {
	out := map[string]string{}
	for _, p := range e.plan.Steps {
		if p.Kind == planner.KindPort && p.Veth.Bridge == bridge {
			if n, err := e.node(p.Veth.B.Node); err == nil {
				out[p.Veth.B.Node] = n.ID
			}
		}
	}
	return out
}

// HostStep is a step netlab sent this host's agent (engine.AgentStep, as
// the agent has it).
type HostStep struct {
	engine.AgentStep
	Host   string                  // this host's name, for what the step notes
	Nodes  map[string]engine.Node  // the step's nodes that run here, by their processes as this host sees them
	Places map[string]engine.Place // where each of the step's nodes runs
	Span   wire.Span               // a port's: this host's address and the other hosts'
	// OwnPod: the agent is a pod's own, whose network namespace is the
	// host's here: the pod's guard takes the span's packets from the other
	// hosts (the network's other member pods).
	OwnPod bool
}

// spanMu keeps an agent's ports of one network from making its bridge and
// span side by side.
var spanMu sync.Mutex

// OnHost carries out, on this host, a step that netlab sent this host's
// agent. A link between a node here and one elsewhere is its end here; a
// port is made on its network's bridge here, which is made first, with
// its span to the other hosts, the host's guard and forwarding rule for
// it, and the lab's isolation; the port's ends get the span's MTU unless
// the lab file gives one. It returns what the step noted for the user.
func OnHost(ctx context.Context, w HostStep) (bool, []string, error) {
	s := w.Step
	if !delegable[s.Kind] {
		return false, nil, fmt.Errorf("step %s: an agent does not carry out %s steps", s.ID, s.Kind)
	}
	host, err := netlink.NewHandle()
	if err != nil {
		return false, nil, fmt.Errorf("netlink: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		host.Close()
		return false, nil, err
	}
	e := &Executor{plan: &planner.Plan{Lab: w.Lab}, host: host, onHost: true, placed: w.Places, bins: engine.Installed{Netlab: self},
		nodes: map[string]*running{}, vnis: map[string]int{}}
	defer e.Close()
	if key := vniKey(s); key != "" {
		e.vnis[key] = w.VNI
	}
	if s.Kind == planner.KindRelay { // its pid file and log
		if err := engine.MakeRunDir(w.Lab); err != nil {
			return false, nil, err
		}
	}
	for name, n := range w.Nodes {
		ns, err := wire.OpenNS(n.Pid)
		if err != nil {
			return false, nil, fmt.Errorf("node %s: %w", name, err)
		}
		e.nodes[name] = &running{Node: n, ns: ns}
	}
	spanned := false
	if s.Kind == planner.KindDHCPD && s.DHCPD.Node == "" {
		if w.Bridge == nil {
			return false, nil, fmt.Errorf("step %s: a DHCP server on a bridge without the bridge", s.ID)
		}
		_, changed, err := e.spanBridge(w)
		if err != nil {
			return changed, e.Notes(), err
		}
		spanned = changed
	}
	if s.Kind == planner.KindPort {
		if w.Bridge == nil {
			return false, nil, fmt.Errorf("step %s: a port without its network's bridge", s.ID)
		}
		if len(w.Nodes) == 0 { // another member's port: this host's span reaches its host
			_, changed, err := e.spanBridge(w)
			return changed, e.Notes(), err
		}
		mtu, changed, err := e.spanBridge(w)
		if err != nil {
			return changed, e.Notes(), err
		}
		spanned = changed
		port := *s
		veth := *s.Veth
		for _, end := range []*planner.VethEnd{&veth.A, &veth.B} {
			if end.MTU == 0 {
				end.MTU = mtu
			}
		}
		port.Veth = &veth
		s = &port
	}
	changed, err := e.Do(ctx, s)
	return changed || spanned, e.Notes(), err
}

// spanBridge makes a port's network's bridge on this host, its span to
// the other hosts, the host's rules for it, and the lab's isolation, and
// returns the span's MTU.
func (e *Executor) spanBridge(w HostStep) (int, bool, error) {
	spanMu.Lock()
	defer spanMu.Unlock()
	b := w.Bridge
	changed, err := wire.EnsureBridge(e.host, b)
	if err != nil {
		return 0, changed, err
	}
	if w.OwnPod {
		// The bridge shares the node's namespace, and so its addresses
		// and netfilter hooks: it must not answer ARP for them with its
		// own MAC (the same in every member pod), nor pass its frames to
		// the node's NAT and firewall.
		if err := wire.BridgeNoARP(e.host, b.Name); err != nil {
			return 0, changed, err
		}
		if err := wire.BridgeNetfilterOff(); err != nil {
			return 0, changed, fmt.Errorf("network %s: %w", b.Network, err)
		}
	}
	for _, ensure := range []func() (bool, error){
		func() (bool, error) { return wire.EnsureGuardBridge(w.Lab, b.Name) },
		func() (bool, error) { return wire.EnsureHostForward(w.Lab, b.Network, b.Name) },
	} {
		set, err := ensure()
		if changed = changed || set; err != nil {
			return 0, changed, err
		}
	}
	span := w.Span
	span.Lab, span.Network, span.InPods = w.Lab, b.Network, w.OwnPod
	// The host's span guard takes the spans' packets from these hosts; a
	// pod's guard, from the network's other member pods.
	guard := func() error { return wire.EnsureSpanGuard(nil, append([]netip.Addr{span.Local}, span.Peers...)) }
	if w.OwnPod {
		guard = func() error { return allowPeers(span.Peers) }
	}
	if err := guard(); err != nil {
		return 0, changed, fmt.Errorf("span of network %s: %w", b.Network, err)
	}
	made, mtu, err := wire.EnsureSpan(e.host, b.Name, span)
	if err != nil {
		return 0, changed, err
	}
	if made {
		e.note("network %s spans hosts: on %s its bridge %s is joined to %s by VXLAN %s (VNI %d, UDP %d) from %s, MTU %d (VXLAN takes %d bytes of each packet)",
			b.Network, w.Host, b.Name, planner.Plural(len(span.Peers), "other host"), naming.Span(w.Lab, b.Network), span.VNI(), wire.VXLANPort, span.Local, mtu, wire.TunnelOverhead(span.Local))
	}
	if w.Isolate != nil {
		set, err := wire.EnsureIsolation(spannedIsolation(w.Lab, w.Isolate, len(span.Peers) > 0))
		if changed = changed || set || made; err != nil {
			return 0, changed, err
		}
	}
	return mtu, changed || made, nil
}

// allowPeers lets the span's packets from peers past this pod's guard
// (an agent that is a pod's own: its namespace is the pod's).
func allowPeers(peers []netip.Addr) error {
	ns, err := wire.OpenNSPath("/proc/self/ns/net")
	if err != nil {
		return err
	}
	defer ns.Close()
	for _, p := range peers {
		if err := wire.AllowTunnelPeer(ns, p); err != nil {
			return err
		}
	}
	return nil
}

// spannedIsolation is the lab's isolation as a host of a cluster has it:
// where other hosts run agents, every isolated network may span them, and
// its members there are known by their MACs on its span (wire's
// isolation). The same on every port of the lab, so that the table a
// host writes for one network's port is current for the next's.
func spannedIsolation(lab string, iso *planner.Isolate, peers bool) *planner.Isolate {
	if !peers {
		return iso
	}
	out := *iso
	out.Networks = slices.Clone(iso.Networks)
	for k := range out.Networks {
		out.Networks[k].Span = naming.Span(lab, out.Networks[k].Network)
	}
	return &out
}
