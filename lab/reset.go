package lab

import (
	"context"
	"fmt"
	"strings"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
	"github.com/netlab/netlab/wire"
)

// ResetOptions are the choices of a reset.
type ResetOptions struct {
	Stage    string // then run the setup of the stages up to this one
	Parallel int    // steps at once of the up
	// Runtime and AllowHost are the up's (UpOptions): the runtime of a lab
	// that does not run, and a person's consent to what it asks of the host.
	Runtime   string
	AllowHost bool
	Progress  Progress
}

// Reset brings a running lab back to its file, and to the start of a
// stage: it repairs the lab as Up does, removes what was changed by hand
// that the file does not have (routes of the main table added with ip
// route, addresses on the lab's interfaces), then runs the setup:
// commands of every stage up to and including opts.Stage, in file order.
// target is a lab file, the name of a running lab, or a bundled lab. It
// returns the lab it reset.
func (m *Manager) Reset(ctx context.Context, target string, opts ResetOptions) (*spec.Lab, error) {
	if err := NeedRoot("reset"); err != nil {
		return nil, err
	}
	l, err := m.target(ctx, target, true)
	if err != nil {
		return nil, err
	}
	stages, err := upto(l, opts.Stage)
	if err != nil {
		return nil, err
	}
	if _, err := m.Up(ctx, l, UpOptions{Runtime: opts.Runtime, AllowHost: opts.AllowHost, Parallel: opts.Parallel, Progress: opts.Progress}); err != nil {
		return l, err
	}
	p, err := Plan(l)
	if err != nil {
		return l, err
	}
	nodes := provider.NewLabNodes(m.host, l.Name)
	removed := 0
	for _, n := range l.SortedNodes() {
		k, err := pruneNode(ctx, nodes, p, n.Name, opts.Progress)
		removed += k
		if err != nil {
			return l, err
		}
	}
	if removed == 0 {
		opts.Progress.note(l.Name, "lab %s: nothing added by hand to remove", l.Name)
	}
	return l, setup(ctx, l.Name, nodes, stages, opts.Progress)
}

// setup runs the setup: commands of stages, in file order.
func setup(ctx context.Context, lab string, nodes *provider.LabNodes, stages []*spec.Stage, progress Progress) error {
	for _, s := range stages {
		for _, st := range s.Setup {
			progress.note(lab, "stage %s setup: %s: %s", s.Name, st.On, st.Run)
			out, code, err := nodes.Exec(ctx, st.On, st.Run)
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("stage %s setup on %s failed (exit %d): %s\n%s", s.Name, st.On, code, st.Run, out)
			}
		}
	}
	return nil
}

// upto is the lab's stages up to and including stage ("": none).
func upto(l *spec.Lab, stage string) ([]*spec.Stage, error) {
	if stage == "" {
		return nil, nil
	}
	if len(l.Stages) == 0 {
		return nil, usagef("lab %s has no stages: (a list of name, title, setup) to reset to", l.Name)
	}
	stages := l.Upto(stage)
	if stages == nil {
		return nil, usagef("lab %s has no stage %q (stages: %s)", l.Name, stage, strings.Join(l.StageNames(), ", "))
	}
	return stages, nil
}

// pruneNode removes from node n the routes and addresses the plan does not
// give it, tells progress of each and returns how many.
func pruneNode(ctx context.Context, nodes *provider.LabNodes, p *planner.Plan, n string, progress Progress) (int, error) {
	var routes []planner.Route
	var addrs []planner.Addr
	var dhcp []string
	for _, s := range p.Steps {
		if s.Node != n {
			continue
		}
		w := steps.Owns(s)
		if w.Route != nil {
			routes = append(routes, *w.Route)
		}
		if w.Addr != nil {
			addrs = append(addrs, *w.Addr)
			if w.Addr.DHCP {
				dhcp = append(dhcp, w.Addr.Iface)
			}
		}
	}
	ns, err := nodes.OpenNS(ctx, n)
	if err != nil {
		return 0, err
	}
	defer ns.Close()
	gone, err := wire.PruneRoutes(ns, routes, dhcp)
	for _, r := range gone {
		progress.note(p.Lab, "%s: removed route %s", n, r)
	}
	if err != nil {
		return len(gone), fmt.Errorf("node %s: %w", n, err)
	}
	gone2, err := wire.PruneAddrs(ns, addrs)
	for _, a := range gone2 {
		progress.note(p.Lab, "%s: removed address %s", n, a)
	}
	if err != nil {
		return len(gone) + len(gone2), fmt.Errorf("node %s: %w", n, err)
	}
	return len(gone) + len(gone2), nil
}
