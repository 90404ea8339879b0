// Package apply walks a plan's dependency graph and has each step carried
// out, in parallel up to a limit. It decides nothing: the plan says what,
// the executor does it.
package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/netlab/netlab/planner"
)

// Executor carries out one step and says whether it changed anything.
type Executor interface {
	Do(ctx context.Context, s *planner.Step) (changed bool, err error)
}

// Outcome of one step.
type Outcome int

// Outcomes.
const (
	Changed   Outcome = iota // the step did something
	Unchanged                // it was done already
	Failed                   // it failed: its error is a root cause
	Skipped                  // a dependency failed, or the run was cancelled
)

// Event reports a step that finished (or was skipped).
type Event struct {
	Step    *planner.Step
	Outcome Outcome
	Err     error
	Started time.Time // when the step began (zero when it did not run)
	Took    time.Duration
}

// Result sums up a run.
type Result struct {
	Changed, Unchanged, Failed, Skipped int
}

// StepError is a root cause: the step that failed and why.
type StepError struct {
	Step *planner.Step
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step.ID, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run executes the plan with at most parallel steps at once (1 if less).
// onEvent, if not nil, is called for every step, one call at a time. The
// error joins the root causes only: steps skipped because of them are
// counted, not reported. A cancelled ctx stops new steps from starting.
func Run(ctx context.Context, p *planner.Plan, ex Executor, parallel int, onEvent func(Event)) (Result, error) {
	if parallel < 1 {
		parallel = 1
	}
	done := make(map[string]chan struct{}, len(p.Steps))
	outcome := make(map[string]Outcome, len(p.Steps))
	for _, s := range p.Steps {
		done[s.ID] = make(chan struct{})
	}
	var (
		mu     sync.Mutex
		res    Result
		causes []error
		wg     sync.WaitGroup
	)
	slots := make(chan struct{}, parallel)
	finish := func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		outcome[ev.Step.ID] = ev.Outcome
		switch ev.Outcome {
		case Changed:
			res.Changed++
		case Unchanged:
			res.Unchanged++
		case Failed:
			res.Failed++
			causes = append(causes, &StepError{Step: ev.Step, Err: ev.Err})
		case Skipped:
			res.Skipped++
		}
		if onEvent != nil {
			onEvent(ev)
		}
		close(done[ev.Step.ID])
	}
	for _, s := range p.Steps {
		wg.Add(1)
		go func(s *planner.Step) {
			defer wg.Done()
			for _, d := range s.Deps {
				<-done[d]
			}
			mu.Lock()
			blocked := false
			for _, d := range s.Deps {
				if o := outcome[d]; o == Failed || o == Skipped {
					blocked = true
				}
			}
			mu.Unlock()
			if blocked || ctx.Err() != nil {
				finish(Event{Step: s, Outcome: Skipped})
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				finish(Event{Step: s, Outcome: Skipped})
				return
			}
			start := time.Now()
			changed, err := ex.Do(ctx, s)
			<-slots
			ev := Event{Step: s, Outcome: Unchanged, Err: err, Started: start, Took: time.Since(start)}
			switch {
			case err != nil:
				ev.Outcome = Failed
			case changed:
				ev.Outcome = Changed
			}
			finish(ev)
		}(s)
	}
	wg.Wait()
	err := errors.Join(causes...)
	if err == nil && ctx.Err() != nil && res.Skipped > 0 {
		err = fmt.Errorf("interrupted: %d steps not run: %w", res.Skipped, ctx.Err())
	}
	return res, err
}
