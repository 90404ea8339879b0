package steps

import (
	"context"
	"fmt"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// Executor carries out a plan's steps for one lab, each by its kind's Do.
// It holds what the steps of a run share: the lab's runtime, the host's
// netlink handle, and the nodes' containers and namespaces as the create
// and start steps find or make them.
type Executor struct {
	rt   engine.Runtime // the lab's runtime
	plan *planner.Plan
	bins engine.Installed // netlab for the helpers, netlab-init for the nodes
	host *netlink.Handle

	ifaces map[string][]planner.VethEnd // node -> the interfaces the plan puts in it
	vnis   map[string]int               // a link's first end (node:iface) -> its tunnel's VNI, should it cross hosts

	onHost bool                    // an agent's executor (OnHost): nodes holds the step's nodes on this host only
	placed map[string]engine.Place // on an agent: where the step's nodes run

	mu       sync.Mutex
	existing map[string]engine.Container // node -> container found before the run
	nodes    map[string]*running         // node -> started container
	started  map[string]bool             // nodes whose process this run started
	created  map[string]bool             // nodes whose container this run created
	notes    []string                    // what the run did that its user should know (Notes)
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
	e := &Executor{rt: d, plan: plan, bins: bins, host: host, existing: map[string]engine.Container{}, nodes: map[string]*running{}, started: map[string]bool{}, created: map[string]bool{},
		ifaces: plan.Interfaces(), vnis: map[string]int{}}
	for _, c := range list {
		e.existing[c.Node] = c
	}
	for _, s := range plan.Steps {
		if key := vniKey(s); key != "" {
			e.vnis[key] = len(e.vnis) + 1
		}
	}
	return e, nil
}

// Notes are what the run did that its user should know and that is no
// step's failure (a link's MTU made smaller to cross hosts), in order.
func (e *Executor) Notes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.notes...)
}

func (e *Executor) note(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// Do carries out one step.
func (e *Executor) Do(ctx context.Context, s *planner.Step) (bool, error) {
	k := kinds[s.Kind]
	if k == nil {
		return false, fmt.Errorf("step %s: unknown kind %q", s.ID, s.Kind)
	}
	if handled, changed, err := e.delegate(ctx, s); handled {
		return changed, err
	}
	return k.Do(ctx, e, s)
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

// Started tells whether this run started the node's process: its
// namespaces are new.
func (e *Executor) Started(node string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started[node]
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

// container is the node's container, as found before the run or made by
// its create step.
func (e *Executor) container(node string) engine.Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.existing[node]
}

// inNode runs fn with the namespace of the step's node, once it started.
func inNode(fn func(e *Executor, ns *wire.NS, s *planner.Step) (bool, error)) func(context.Context, *Executor, *planner.Step) (bool, error) {
	return func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		return fn(e, n.ns, s)
	}
}

// withEnd finishes an interface's step: once the interface exists, its
// MAC and MTU as the file gives them.
// vniKey names a point-to-point link, impaired or not, by its first end:
// links are numbered in the plan's order for their tunnels' VNIs, the
// same whether a link is impaired or not, so that impairing one changes
// no other link's tunnel. "" for other steps.
func vniKey(s *planner.Step) string {
	switch s.Kind {
	case planner.KindLink:
		return s.Veth.A.Node + ":" + s.Veth.A.Name
	case planner.KindRelay:
		return s.Relay.Ends[0].Node + ":" + s.Relay.Ends[0].Name
	}
	return ""
}

func withEnd(changed bool, err error, ns *wire.NS, end planner.VethEnd) (bool, error) {
	if err != nil {
		return changed, err
	}
	set, err := wire.EnsureEnd(ns, end)
	return changed || set, err
}
