// Package checks runs a lab's checks (the checks: list of its file): it
// evaluates each check's probe against the running lab, in parallel, with
// the retries the check asks for, and renders the results as a table, JSON
// or JUnit XML. The evaluation is pure; probes sit behind the Prober
// interface, and NetProber runs them from the host inside the nodes'
// network namespaces, so that checks need no tool in any image.
package checks

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/netlab/netlab/spec"
)

// Prober tries a check's probe once against the running lab.
type Prober interface {
	Probe(ctx context.Context, c *spec.Check) Outcome
}

// Outcome is what one try of a probe saw.
type Outcome struct {
	OK     bool   // the probe succeeded: a reply, a connection, an answer, a match
	Detail string // what it saw, for people: "reply from 10.0.0.5 in 0.4ms"
	Err    error  // the probe could not be made (a node is not running): the check fails, whatever it expects
}

// Result is a check's verdict.
type Result struct {
	Name    string        `json:"name"`
	Stage   string        `json:"stage,omitempty"`
	Node    string        `json:"node"`
	Probe   string        `json:"probe"`
	Target  string        `json:"target"`
	Expect  string        `json:"expect"` // pass or fail
	Passed  bool          `json:"passed"`
	Error   bool          `json:"error,omitempty"` // the probe could not be made
	Detail  string        `json:"detail"`
	Hint    string        `json:"hint,omitempty"` // the check's hint, given when it failed
	Tries   int           `json:"tries"`
	Took    time.Duration `json:"-"`
	Seconds float64       `json:"seconds"`
}

// Options tune a run.
type Options struct {
	Workers  int           // checks at once (default 8)
	Interval time.Duration // between two tries of a check (default 500ms)
	// Done, if set, is called with each result as its check completes,
	// with its index in the list; calls never overlap.
	Done func(i int, r Result)
}

// DefaultWorkers is how many checks run at once unless told otherwise.
const DefaultWorkers = 8

// Select returns the checks of stage ("" means all of them).
func Select(list []*spec.Check, stage string) []*spec.Check {
	if stage == "" {
		return list
	}
	var out []*spec.Check
	for _, c := range list {
		if c.Stage == stage {
			out = append(out, c)
		}
	}
	return out
}

// Run evaluates the checks, at most opts.Workers at once, and returns
// their results in the order of list.
func Run(ctx context.Context, list []*spec.Check, p Prober, opts Options) []Result {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	out := make([]Result, len(list))
	sem := make(chan struct{}, opts.Workers)
	var wg sync.WaitGroup
	var done sync.Mutex
	for i, c := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = evaluate(ctx, c, p, opts.Interval)
			if opts.Done != nil {
				done.Lock()
				defer done.Unlock()
				opts.Done(i, out[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// evaluate tries a check until it passes, or its retries and its within
// duration are used up.
func evaluate(ctx context.Context, c *spec.Check, p Prober, interval time.Duration) Result {
	r := Result{Name: c.Name, Stage: c.Stage, Node: c.Node, Probe: c.Probe, Target: c.Target(), Expect: "pass"}
	if c.ExpectFail {
		r.Expect = "fail"
	}
	start := time.Now()
	var o Outcome
	for {
		r.Tries++
		o = p.Probe(ctx, c)
		r.Passed = o.Err == nil && o.OK != c.ExpectFail
		if r.Passed || ctx.Err() != nil {
			break
		}
		more := r.Tries <= c.Retry || (c.Wait > 0 && time.Since(start)+interval < c.Wait)
		if !more {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.Took = time.Since(start)
	r.Seconds = r.Took.Round(time.Millisecond).Seconds()
	switch {
	case o.Err != nil:
		r.Error = true
		r.Detail = o.Err.Error()
	case c.ExpectFail && !r.Passed:
		r.Detail = "must fail, but " + o.Detail
	default:
		r.Detail = o.Detail
	}
	if r.Tries > 1 {
		r.Detail += fmt.Sprintf(" (%d tries in %s)", r.Tries, r.Took.Round(100*time.Millisecond))
	}
	if !r.Passed {
		r.Hint = c.Hint
	}
	return r
}

// Count returns how many results passed and failed (errors fail).
func Count(results []Result) (passed, failed int) {
	for _, r := range results {
		if r.Passed {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// Summary is the line under the table: "7 passed, 1 failed".
func Summary(results []Result) string {
	p, f := Count(results)
	return fmt.Sprintf("%d passed, %d failed", p, f)
}
