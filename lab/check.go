package lab

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

var _ checks.Nodes = (*provider.LabNodes)(nil)

// CheckOptions are the choices of a check run.
type CheckOptions struct {
	Stage    string // only the checks of this stage ("": all)
	Parallel int    // checks at once (0: checks.DefaultWorkers)
	// Done, if set, gets each result as its check completes, with its
	// index among the selected checks.
	Done func(i int, r checks.Result)
}

// CheckResult is a check run: the lab it ran on, and each check's result
// in the order of the lab file.
type CheckResult struct {
	Lab     *spec.Lab
	Results []checks.Result
}

// Failed counts the checks that did not pass.
func (r *CheckResult) Failed() int {
	_, failed := checks.Count(r.Results)
	return failed
}

// Check runs the lab's checks (of a stage) against the running lab, from
// inside the nodes' network namespaces. target is a lab file (or Kathará
// folder, containerlab topology) or the name of a running lab, whose file
// is found again from its containers.
func (m *Manager) Check(ctx context.Context, target string, opts CheckOptions) (*CheckResult, error) {
	if !IsPath(target) {
		if err := NeedRoot("check"); err != nil {
			return nil, err
		}
	}
	l, err := m.target(ctx, target, false)
	if err != nil {
		return nil, err
	}
	if err := checkable(l, opts.Stage); err != nil {
		return nil, err
	}
	if err := NeedRoot("check"); err != nil {
		return nil, err
	}
	list, err := m.host.List(ctx, l.Name)
	if err != nil {
		return nil, err
	}
	running := 0
	for _, c := range list {
		if c.State == "running" {
			running++
		}
	}
	if running == 0 {
		return nil, fmt.Errorf("lab %s is not running: bring it up with netlab up %s, then check it", l.Name, l.File)
	}
	selected := checks.Select(l.Checks, opts.Stage)
	prober := &checks.NetProber{Nodes: provider.NewLabNodes(m.host, l.Name), Lab: l}
	results := checks.Run(ctx, selected, prober, checks.Options{Workers: opts.Parallel, Done: opts.Done})
	return &CheckResult{Lab: l, Results: results}, nil
}

// target loads a lab from a path, or from the file a running lab of that
// name was brought up from, or (if bundled) a bundled lab of that name.
func (m *Manager) target(ctx context.Context, target string, bundled bool) (*spec.Lab, error) {
	if IsPath(target) {
		l, _, err := Load(target)
		return l, err
	}
	if err := naming.CheckName("lab", target); err != nil {
		return nil, usageError{err}
	}
	list, err := m.host.List(ctx, target)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 && !bundled {
		return nil, fmt.Errorf("no lab %s is running on this host (netlab ls lists them); give its file to see what it checks", target)
	}
	if len(list) == 0 {
		l, _, err := Load(target) // a bundled lab, or a usage error
		return l, err
	}
	return ofContainers(list)
}

// ofContainers loads the file a running lab was brought up from.
func ofContainers(list []engine.Container) (*spec.Lab, error) {
	file := ""
	for _, c := range list {
		if f := c.Labels[naming.LabelFile]; f != "" {
			file = f
			break
		}
	}
	lab := list[0].Labels[naming.LabelLab]
	if file == "" {
		return nil, usagef("lab %s does not say which file it came from: give the file, netlab check FILE", lab)
	}
	if _, err := os.Stat(file); err != nil {
		return nil, usagef("lab %s was brought up from %s, which is not found from here: give the file, netlab check FILE", lab, file)
	}
	l, _, err := Load(file)
	return l, err
}

// checkable says what is wrong if the lab has no checks to run (of stage).
func checkable(l *spec.Lab, stage string) error {
	where := l.File
	if where == "" {
		where = "the lab file"
	}
	if len(l.Checks) == 0 {
		return usagef("lab %s has no checks: add a checks: list to %s (see netlab schema)", l.Name, where)
	}
	if stage != "" && len(checks.Select(l.Checks, stage)) == 0 {
		stages := l.StageNames()
		if len(stages) == 0 {
			return usagef("lab %s has no stages: its checks give no stage:", l.Name)
		}
		return usagef("lab %s has no checks of stage %q (stages: %s)", l.Name, stage, strings.Join(stages, ", "))
	}
	return nil
}
