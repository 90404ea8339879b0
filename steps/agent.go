package steps

import (
	"context"
	"fmt"
	"slices"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/engine"
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
}

// delegable are those of them an agent carries out: the ones that touch
// nothing but the nodes' namespaces (a port needs the lab network's
// bridge, a relay and a host link this machine, a macvlan this machine's
// interface, a lease netlab's DHCP server).
var delegable = map[planner.Kind]bool{
	planner.KindLink: true, planner.KindVLANIf: true, planner.KindAddr: true, planner.KindRoute: true,
	planner.KindNAT: true, planner.KindNDPProxy: true, planner.KindFirewall: true,
}

// stepNodes are the nodes whose namespaces a step touches.
func stepNodes(s *planner.Step) []string {
	var out []string
	if s.Node != "" {
		out = append(out, s.Node)
	}
	if s.Kind == planner.KindLink {
		out = append(out, s.Veth.A.Node, s.Veth.B.Node)
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
	vni := 0
	if s.Kind == planner.KindLink {
		vni = e.vnis[s.Veth.A.Node+":"+s.Veth.A.Name]
	}
	changed, notes, err := d.AgentStep(ctx, e.plan.Lab, s, ids, vni)
	for _, n := range notes {
		e.note("%s", n)
	}
	return true, changed, err
}

// OnHost carries out, on this host, a step that netlab sent this host's
// agent: nodes are the step's nodes that run here (by their processes, as
// this host sees them), places where each of its nodes runs, vni a link's
// tunnel VNI. A link between a node here and one elsewhere is its end
// here. It returns what the step noted for the user.
func OnHost(ctx context.Context, lab string, s *planner.Step, nodes map[string]engine.Node, places map[string]engine.Place, vni int) (bool, []string, error) {
	if !delegable[s.Kind] {
		return false, nil, fmt.Errorf("step %s: an agent does not carry out %s steps", s.ID, s.Kind)
	}
	host, err := netlink.NewHandle()
	if err != nil {
		return false, nil, fmt.Errorf("netlink: %w", err)
	}
	e := &Executor{plan: &planner.Plan{Lab: lab}, host: host, onHost: true, placed: places,
		nodes: map[string]*running{}, vnis: map[string]int{}}
	defer e.Close()
	if s.Kind == planner.KindLink {
		e.vnis[s.Veth.A.Node+":"+s.Veth.A.Name] = vni
	}
	for name, n := range nodes {
		ns, err := wire.OpenNS(n.Pid)
		if err != nil {
			return false, nil, fmt.Errorf("node %s: %w", name, err)
		}
		e.nodes[name] = &running{Node: n, ns: ns}
	}
	changed, err := e.Do(ctx, s)
	return changed, e.Notes(), err
}
