package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/provider"
)

// DownOptions are the choices of a down.
type DownOptions struct {
	Parallel int // containers removed at once (0: 32)
	// KeepCache keeps the images a runc lab's nodes were unpacked from,
	// and this netlab's copy of itself, for the next up.
	KeepCache bool
	Progress  Progress
}

// DownResult counts what a down removed.
type DownResult struct {
	provider.Removed
	Took time.Duration `json:"took"`
}

// Nothing tells whether the down found nothing of the lab.
func (r DownResult) Nothing() bool { return r.Containers+r.Interfaces+r.FirewallRules == 0 }

// Down removes everything of the lab, found from its name alone. It goes
// on after ctx ends: a half-removed lab is worse than a slow Ctrl-C.
func (m *Manager) Down(ctx context.Context, lab string, opts DownOptions) (DownResult, error) {
	if err := NeedRoot("down"); err != nil {
		return DownResult{}, err
	}
	if err := naming.CheckName("lab", lab); err != nil {
		return DownResult{}, usageError{err}
	}
	unlock, err := m.lock(lab, "down", opts.Progress)
	if err != nil {
		return DownResult{}, err
	}
	defer unlock()
	parallel := opts.Parallel
	if parallel < 1 {
		parallel = 32
	}
	start := time.Now()
	r, err := provider.Down(context.WithoutCancel(ctx), m.host, lab, parallel, opts.KeepCache)
	if err != nil {
		return DownResult{Removed: r}, fmt.Errorf("down %s: %w", lab, err)
	}
	if err := removeRecord(lab); err != nil {
		return DownResult{Removed: r}, fmt.Errorf("down %s: forget it for restore: %w", lab, err)
	}
	keep := "" // KeepCache keeps this netlab's own build too, for the next up
	if opts.KeepCache {
		keep, _ = engine.BuildDir(m.self)
	}
	// Without the Docker engine, its nodes cannot be listed: the copies
	// they run would look unused.
	if _, err := m.host.Runtime(engine.RuntimeDocker); err == nil {
		if _, err := engine.PruneInits(ctx, m.host, keep); err != nil {
			opts.Progress.warn(lab, "lab %s removed; cleaning %s: %v", lab, engine.InitDir, err)
		}
	}
	if err := m.removeCgroupParents(ctx); err != nil {
		opts.Progress.warn(lab, "lab %s removed; cleaning netlab's cgroups: %v", lab, err)
	}
	return DownResult{Removed: r, Took: time.Since(start).Round(time.Millisecond)}, nil
}

// Summary is a lab on this host, as List gives it.
type Summary struct {
	Lab     string `json:"lab"`
	Nodes   int    `json:"nodes"`
	Running int    `json:"running"`
	File    string `json:"file"` // absolute path of the lab file, from the containers' labels
	Runtime string `json:"runtime"`
}

// List gives the labs on this host, by name.
func (m *Manager) List(ctx context.Context) ([]Summary, error) {
	names, err := provider.Labs(ctx, m.host)
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, l := range names {
		list, err := m.host.List(ctx, l)
		if err != nil {
			return nil, err
		}
		s := Summary{Lab: l, Nodes: len(list)}
		for _, c := range list {
			if c.State == "running" {
				s.Running++
			}
			if f := c.Labels[naming.LabelFile]; f != "" {
				s.File = f
			}
			s.Runtime = c.Runtime
		}
		out = append(out, s)
	}
	return out, nil
}

// NodeState is a node as Status reads it; IfaceState one of its
// interfaces.
type (
	NodeState  = provider.NodeState
	IfaceState = provider.IfaceState
)

// InitDir is where up installs netlab's init for the nodes.
var InitDir = engine.InitDir

// Status is the state of a lab's nodes and of its watcher.
type Status struct {
	Lab   string      `json:"lab"`
	Nodes []NodeState `json:"nodes"`
	// WatcherPid is the pid of the lab's watcher, 0 when none runs.
	WatcherPid int    `json:"watcher_pid"`
	WatcherLog string `json:"watcher_log"`
}

// Status reads the lab's nodes: container state, interfaces, gateways,
// published ports, and whether its watcher runs.
func (m *Manager) Status(ctx context.Context, lab string) (*Status, error) {
	nodes, err := provider.Status(ctx, m.host, lab)
	if err != nil {
		return nil, err
	}
	s := &Status{Lab: lab, Nodes: nodes, WatcherLog: provider.WatcherLog(lab)}
	if pid, ok := provider.WatcherRunning(lab); ok {
		s.WatcherPid = pid
	}
	return s, nil
}

// Live reads what a page shows of the lab's nodes (provider.Live): their
// state, whether they are wired, their interfaces' up, carrier,
// impairment and missing; nothing of the watcher.
func (m *Manager) Live(ctx context.Context, lab string) (*Status, error) {
	nodes, err := provider.Live(ctx, m.host, lab)
	if err != nil {
		return nil, err
	}
	return &Status{Lab: lab, Nodes: nodes}, nil
}

// Statuses reads the status of the lab named, or of every lab on this
// host when name is "".
func (m *Manager) Statuses(ctx context.Context, name string) ([]*Status, error) {
	names := []string{name}
	if name == "" {
		var err error
		if names, err = m.Labs(ctx); err != nil {
			return nil, err
		}
	}
	var out []*Status
	for _, l := range names {
		st, err := m.Status(ctx, l)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Labs gives the names of the labs on this host.
func (m *Manager) Labs(ctx context.Context) ([]string, error) {
	return provider.Labs(ctx, m.host)
}
