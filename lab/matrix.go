package lab

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

// MatrixResult is a run of a lab's connectivity matrix.
type MatrixResult struct {
	Lab   *spec.Lab
	Pairs []matrix.Pair
}

// Matrix measures the connectivity matrix of a running lab: a host of
// every group (AS) pings one of every other, opts.Workers pairs at once,
// and each path is judged from the AS path at the source's router. target
// is a lab file or the name of a running lab.
func (m *Manager) Matrix(ctx context.Context, target string, opts matrix.Options) (*MatrixResult, error) {
	if err := NeedRoot("matrix"); err != nil {
		return nil, err
	}
	l, err := m.running(ctx, target)
	if err != nil {
		return nil, err
	}
	plan, err := matrix.NewPlan(l)
	if err != nil {
		return nil, usageError{err}
	}
	prober := &checks.NetProber{Nodes: provider.NewLabNodes(m.host, l.Name), Lab: l}
	return &MatrixResult{Lab: l, Pairs: matrix.Run(ctx, plan, prober, opts)}, nil
}

// LookingGlass reads a router's BGP paths and routes (to prefix, or all)
// from FRR. target is a lab file or the name of a running lab.
func (m *Manager) LookingGlass(ctx context.Context, target, router, prefix string) (*lookingglass.Glass, error) {
	if err := NeedRoot("lg"); err != nil {
		return nil, err
	}
	if prefix != "" {
		if err := lookingglass.CheckPrefix(prefix); err != nil {
			return nil, usageError{err}
		}
	}
	l, err := m.running(ctx, target)
	if err != nil {
		return nil, err
	}
	if _, err := m.node(ctx, l.Name, router); err != nil {
		return nil, err
	}
	nodes := provider.NewLabNodes(m.host, l.Name)
	return lookingglass.Look(ctx, nodes.Exec, router, prefix)
}

// running loads the lab of target (a file or a running lab's name) and
// says if none of its nodes runs.
func (m *Manager) running(ctx context.Context, target string) (*spec.Lab, error) {
	l, err := m.target(ctx, target, false)
	if err != nil {
		return nil, err
	}
	list, err := m.host.List(ctx, l.Name)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if c.State == "running" {
			return l, nil
		}
	}
	return nil, fmt.Errorf("lab %s is not running: bring it up with netlab up %s", l.Name, l.File)
}
