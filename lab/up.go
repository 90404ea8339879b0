package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
	"github.com/netlab/netlab/trust"
	"github.com/netlab/netlab/wire"
)

// UpOptions are the choices of an up.
type UpOptions struct {
	Parallel int  // steps at once (0: 8)
	DryRun   bool // work out the changes, make none
	NoWatch  bool // start no watcher (the watcher's own repairs)
	// Repair is the watcher's up: nodes a person stopped (netlab stop)
	// stay stopped, and unwired, where any other up starts them.
	Repair  bool
	Runtime string // docker, runc or kubernetes, whatever the file says ("": the file's, or the running lab's)
	// Stage, if set, then runs the setup: commands of the lab's stages up
	// to and including it, in file order: the lab is where a student
	// starting that stage finds it.
	Stage string
	// AllowHost allows, for this run, whatever the lab asks of the host
	// beyond its own nodes (package trust lists it): a person's consent,
	// as netlab up --allow-host gives it. Without it such a lab comes up
	// only when it is bundled, or trusted by its content's hash.
	AllowHost bool
	Progress  Progress
	// restoring: the up of a restore, which a down meanwhile cancels.
	restoring bool
}

// UpResult says what an up did.
type UpResult struct {
	Lab string `json:"lab"`
	// Changes are what differed from the file when up began: with DryRun,
	// all that up would do.
	Changes   []converge.Change `json:"changes"`
	Changed   int               `json:"changed"`   // steps that did something
	Unchanged int               `json:"unchanged"` // steps that found their work done
	Pruned    []string          `json:"pruned,omitempty"`
	Took      time.Duration     `json:"took"`
	// Failed and Skipped count the steps that failed and those skipped
	// because a step they wait for failed (the error says which).
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Host is what the lab asks of the host beyond its own nodes (with a
	// dry run, whether or not it is allowed).
	Host []trust.Request `json:"host,omitempty"`
}

// UpToDate tells whether the up found the lab as its file says.
func (r *UpResult) UpToDate() bool { return r.Changed == 0 && len(r.Pruned) == 0 }

// Up brings the lab up, or repairs and converges it: it removes what the
// file no longer has, carries out the plan in parallel, starts the lab's
// watcher, and fails when a node it started ends at once.
func (m *Manager) Up(ctx context.Context, l *spec.Lab, opts UpOptions) (*UpResult, error) {
	if err := NeedRoot("up"); err != nil {
		return nil, err
	}
	p, err := Plan(l)
	if err != nil {
		return nil, err
	}
	stages, err := upto(l, opts.Stage)
	if err != nil {
		return nil, err
	}
	host := trust.Requests(l)
	warnKernel(l, opts.Progress)
	if opts.DryRun {
		res, err := m.diff(ctx, l, p, opts.Runtime)
		if res != nil {
			res.Host = host
		}
		return res, err
	}
	if err := allowed(l, host, opts.AllowHost); err != nil {
		return &UpResult{Lab: l.Name, Host: host}, err
	}
	for _, r := range host {
		opts.Progress.note(l.Name, "allowed: %s", r)
	}
	if len(host) > 0 {
		for _, s := range p.Steps {
			if s.Container != nil {
				s.Container.HostAllowed = true
			}
		}
	}
	if err := engine.Static(m.self); err != nil {
		return nil, err
	}
	// Nodes run a copy named by its content, not this file, which may
	// move or go (a removed checkout, a go install elsewhere).
	bins, release, err := engine.InstallInit(m.self)
	if err != nil {
		return nil, err
	}
	defer release()
	if bins.NoInit {
		opts.Progress.warn(l.Name, "no %s beside %s: nodes run netlab itself as their init, whose start-up costs each node several times the CPU (make build makes both)",
			engine.InitName, m.self)
	}
	unlock, err := m.lock(l.Name, "up", opts.Progress)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err = keepStopped(l.Name, p, opts.Repair)
	if err != nil {
		return nil, err
	}
	if err := m.recordUp(l, opts, false); err != nil {
		return nil, err
	}
	res, err := m.up(ctx, l, p, bins, opts)
	if res != nil {
		res.Host = host
	}
	// Recorded for a restore once the up made something: an up that could
	// not reach its runtime leaves nothing to restore.
	if res != nil && (err == nil || res.Changed > 0) {
		if rerr := m.recordUp(l, opts, true); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err == nil && len(host) > 0 {
		// The watcher's repairs of this run may have what it was allowed,
		// as long as the file is the same.
		_, err = trust.Record(l, l.Data, RunTrust(l.Name))
		if err == nil { // and its restore after a reboot
			_, err = trust.Record(l, l.Data, RestoreTrust(l.Name))
		}
	}
	if err != nil || len(stages) == 0 {
		return res, err
	}
	return res, setup(ctx, l.Name, provider.NewLabNodes(m.host, l.Name), stages, opts.Progress)
}

// keepStopped is the plan of a repair without the nodes a person stopped
// (their start and what waits for it); any other up starts them, and they
// are no longer stopped on purpose.
func keepStopped(lab string, p *planner.Plan, repair bool) (*planner.Plan, error) {
	var starts []string
	for _, n := range engine.StoppedOnPurpose(lab) {
		if !repair {
			if err := engine.MarkStopped(lab, n, false); err != nil {
				return nil, err
			}
		}
		starts = append(starts, "start:"+n)
	}
	if !repair {
		return p, nil
	}
	return p.Without(starts...), nil
}

// lock takes the lab's lock for verb, telling progress when it waits.
func (m *Manager) lock(lab, verb string, progress Progress) (func(), error) {
	return engine.LockLab(lab, verb, func(holder string) {
		progress.send(Event{Lab: lab, Kind: EventWaiting, Message: fmt.Sprintf("lab %s: %s is working on it; waiting…", lab, holder)})
	})
}

// diff is a dry run: the changes up would make.
func (m *Manager) diff(ctx context.Context, l *spec.Lab, p *planner.Plan, runtime string) (*UpResult, error) {
	rt, err := m.runtimeOf(ctx, l, runtime)
	if err != nil {
		return nil, err
	}
	changes, err := m.changes(ctx, rt, p)
	if err != nil {
		return nil, err
	}
	return &UpResult{Lab: l.Name, Changes: changes}, nil
}

// up is Up with the lab's lock held.
func (m *Manager) up(ctx context.Context, l *spec.Lab, p *planner.Plan, bins engine.Installed, opts UpOptions) (*UpResult, error) {
	rt, err := m.runtimeOf(ctx, l, opts.Runtime)
	if err != nil {
		return nil, err
	}
	changes, err := m.changes(ctx, rt, p)
	if err != nil {
		return nil, err
	}
	res := &UpResult{Lab: l.Name, Changes: changes}
	if err := m.prepare(ctx, rt, l, changes, opts.Progress); err != nil {
		return res, err
	}
	// The lab's routers start their daemons once the wiring is done
	// (package startgate): hundreds starting meanwhile slowed it tenfold.
	// Held from here: the gate is in the lab's run directory, which an up
	// that makes nothing (no engine, an image missing) must not leave.
	releaseGate, err := engine.HoldGate(l.Name)
	if err != nil {
		return res, err
	}
	defer releaseGate()
	ex, err := steps.NewExecutor(ctx, rt, p, bins)
	if err != nil {
		return res, err
	}
	defer ex.Close()
	start := time.Now()
	events := newStepEvents(l.Name, len(p.Steps), opts.Progress)
	parallel := opts.Parallel
	if parallel < 1 {
		parallel = 8
	}
	ar, err := apply.Run(ctx, p, ex, parallel, events.event)
	for _, n := range ex.Notes() {
		opts.Progress.note(l.Name, "%s", n)
	}
	res.Changed, res.Unchanged, res.Failed, res.Skipped = ar.Changed, ar.Unchanged, ar.Failed, ar.Skipped
	res.Took = time.Since(start).Round(time.Millisecond)
	if err != nil {
		return res, errors.Join(fmt.Errorf("lab %s: %d steps failed, %d skipped; fix the cause and run netlab up again, or netlab down %s",
			l.Name, ar.Failed, ar.Skipped, l.Name), err)
	}
	return res, m.settle(ctx, rt, p, ex, bins, res, events.released(), opts)
}

// prepare removes what the file no longer has (and the nodes to make
// again), puts back removed init binaries and raises the host's inotify
// limit for the lab's waiting nodes.
func (m *Manager) prepare(ctx context.Context, rt engine.Runtime, l *spec.Lab, changes []converge.Change, progress Progress) error {
	removed, err := provider.Remove(ctx, rt, l.Name, changes)
	for _, c := range removed {
		verb := "removed"
		if c.Action == converge.Recreate {
			verb = "removed to make again (" + c.Detail + ")"
		}
		progress.note(l.Name, "%s %s %s", verb, c.What(), c.Name)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w; fix the cause and run netlab up again", l.Name, err)
	}
	restored, err := engine.RestoreInits(ctx, rt, l.Name)
	for _, node := range restored {
		progress.note(l.Name, "put back the init binary of node %s (it was removed from %s)", node, engine.InitDir)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w", l.Name, err)
	}
	if from, to, err := wire.EnsureInotify(len(l.Nodes)); err != nil {
		progress.warn(l.Name, "lab %s: %v; nodes above the limit wait by polling", l.Name, err)
	} else if to != 0 {
		progress.warn(l.Name, "raised fs.inotify.max_user_instances from %d to %d: each node waiting to be wired holds one", from, to)
	}
	return nil
}

// settle follows a successful apply: the watcher starts, stale tables go,
// and the nodes up released are watched for a command that ends at once.
func (m *Manager) settle(ctx context.Context, rt engine.Runtime, p *planner.Plan, ex *steps.Executor, bins engine.Installed,
	res *UpResult, released map[string]time.Time, opts UpOptions) error {
	// The watcher starts while up waits to see whether a node dies at
	// start. It follows the lab only once up lets go of the lab's lock:
	// it would start again a node that up stops.
	var watching sync.WaitGroup
	var watchErr error
	if !opts.NoWatch {
		watching.Add(1)
		go func() {
			defer watching.Done()
			_, watchErr = provider.EnsureWatcher(p.Lab, p.FileLabel(), bins.Netlab)
		}()
	}
	defer watching.Wait() // on an early return too: the watcher may be starting
	pruned, err := provider.PruneTables(ctx, rt, p, ex.Started)
	for _, w := range pruned {
		opts.Progress.note(p.Lab, "removed %s (no longer in the file)", w)
	}
	res.Pruned = pruned
	if err != nil {
		return fmt.Errorf("lab %s: %w", p.Lab, err)
	}
	if err := m.diedAtStart(ctx, rt, p.Lab, released); err != nil {
		return err
	}
	if watching.Wait(); watchErr != nil {
		opts.Progress.warn(p.Lab, "lab %s: %v: restarted nodes stay unwired until netlab up", p.Lab, watchErr)
	}
	return nil
}

// stepEvents turns the apply's events into Events, one at a time, and
// notes the nodes whose command the up started (their ready step did
// something), each with the time its ready step began.
type stepEvents struct {
	lab      string
	total    int
	progress Progress
	mu       sync.Mutex
	n        int
	ready    map[string]time.Time
}

func newStepEvents(lab string, total int, progress Progress) *stepEvents {
	return &stepEvents{lab: lab, total: total, progress: progress, ready: map[string]time.Time{}}
}

func (s *stepEvents) event(e apply.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if e.Outcome == apply.Changed && e.Step.Kind == planner.KindReady {
		s.ready[e.Step.Node] = e.Started
	}
	s.progress.send(Event{Lab: s.lab, Kind: EventStep, Step: e.Step, StepID: e.Step.ID, Outcome: e.Outcome,
		Took: e.Took, Err: e.Err, N: s.n, Total: s.total})
}

// released is the nodes whose command the up released, each with the
// time its ready step began: the instance released ran by then, so an
// end before it was an earlier instance's (a restart that an up started
// before, as a repair, wired the new instance of).
func (s *stepEvents) released() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.ready)
}

// changes checks that the lab can have the host and compares it with what
// runs of it: the changes up makes.
func (m *Manager) changes(ctx context.Context, rt engine.Runtime, p *planner.Plan) ([]converge.Change, error) {
	existing, err := m.host.Existing(ctx)
	if err != nil {
		return nil, err
	}
	if err := converge.Collisions(p, existing); err != nil {
		return nil, err
	}
	observed, err := provider.Observe(ctx, rt, p.Lab)
	if err != nil {
		return nil, fmt.Errorf("read the running lab %s: %w", p.Lab, err)
	}
	return converge.Diff(p, observed, steps.Owns), nil
}

// runtimeOf is the runtime that runs the lab's nodes: want (a flag), else
// the file's runtime key, else the runtime that runs the lab already (so
// that start and the commands that take the file again keep a lab brought
// up with --runtime where it is), else Docker. A lab moves to another
// runtime only through down.
func (m *Manager) runtimeOf(ctx context.Context, l *spec.Lab, want string) (engine.Runtime, error) {
	if want != "" && !IsRuntime(want) {
		return nil, usagef("the runtime is docker, runc or kubernetes, not %q", want)
	}
	if want == "" {
		want = l.Runtime
	}
	list, err := m.host.List(ctx, l.Name)
	if err != nil && want != "" && want != engine.RuntimeDocker && errors.Is(err, engine.ErrNoEngine) {
		list, err = nil, nil // a runc or kubernetes lab needs no engine
	}
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if want == "" {
			want = c.Runtime
		}
		if c.Runtime != want {
			return nil, fmt.Errorf("lab %s runs on the %s runtime (node %s): netlab down %s first to bring it up on %s", l.Name, c.Runtime, c.Node, l.Name, want)
		}
	}
	if want == "" {
		want = engine.RuntimeDocker
	}
	return m.host.Runtime(want)
}

// RunTrust is where the consent to a running lab's host access is kept for
// its watcher's repairs: in the lab's run directory, gone with its down.
func RunTrust(lab string) string {
	return filepath.Join(engine.RunDir, lab, "trust")
}

// allowed decides whether the lab may have what it asks of the host: a
// person allowed it for this run, or it is bundled, or trusted by its
// content's hash (netlab trust FILE), or it runs already with the same
// content and was allowed when it came up (the watcher's repairs, start,
// impair and reset take the file again), also before a reboot (its
// restore).
func allowed(l *spec.Lab, host []trust.Request, allowHost bool) error {
	err := trust.Allowed(l, l.Data, host, trust.Options{AllowHost: allowHost})
	if err != nil && (trust.Allowed(l, l.Data, host, trust.Options{Store: RunTrust(l.Name)}) == nil ||
		trust.Allowed(l, l.Data, host, trust.Options{Store: RestoreTrust(l.Name)}) == nil) {
		return nil
	}
	return err
}
