package apply

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
)

// recorder is an executor that notes the order of steps, how many ran at
// once, and fails the steps it is told to.
type recorder struct {
	mu      sync.Mutex
	order   []string
	running int32
	most    int32
	fail    map[string]bool
	delay   time.Duration
}

func (r *recorder) Do(ctx context.Context, s *planner.Step) (bool, error) {
	n := atomic.AddInt32(&r.running, 1)
	defer atomic.AddInt32(&r.running, -1)
	for {
		m := atomic.LoadInt32(&r.most)
		if n <= m || atomic.CompareAndSwapInt32(&r.most, m, n) {
			break
		}
	}
	time.Sleep(r.delay)
	r.mu.Lock()
	r.order = append(r.order, s.ID)
	r.mu.Unlock()
	if r.fail[s.ID] {
		return false, errors.New("boom")
	}
	return !strings.HasPrefix(s.ID, "bridge:"), nil
}

func plan(t *testing.T) *planner.Plan {
	lab, err := spec.Load("../labs/fopnp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDependenciesFirstAndBoundedParallelism(t *testing.T) {
	p := plan(t)
	r := &recorder{delay: time.Millisecond}
	res, err := Run(context.Background(), p, r, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed+res.Unchanged != len(p.Steps) || res.Unchanged != 3 {
		t.Errorf("result %+v for %d steps", res, len(p.Steps))
	}
	pos := map[string]int{}
	for i, id := range r.order {
		pos[id] = i
	}
	for _, s := range p.Steps {
		for _, d := range s.Deps {
			if pos[d] > pos[s.ID] {
				t.Errorf("%s ran before its dependency %s", s.ID, d)
			}
		}
	}
	if r.most > 4 || r.most < 2 {
		t.Errorf("at most %d steps ran at once; want 2 to 4", r.most)
	}
}

func TestOnlyRootCausesReported(t *testing.T) {
	p := plan(t)
	r := &recorder{fail: map[string]bool{"start:modemA": true}}
	var events []Event
	res, err := Run(context.Background(), p, r, 3, func(e Event) { events = append(events, e) })
	if err == nil || err.Error() != "start:modemA: boom" {
		t.Fatalf("error %q, want only the root cause", err)
	}
	var se *StepError
	if !errors.As(err, &se) || se.Step.ID != "start:modemA" {
		t.Errorf("root cause not a StepError: %v", err)
	}
	if res.Failed != 1 || res.Skipped == 0 {
		t.Errorf("result %+v", res)
	}
	for _, id := range r.order {
		if strings.HasSuffix(id, ":modemA") && id != "start:modemA" && id != "create:modemA" {
			t.Errorf("%s ran after start:modemA failed", id)
		}
	}
	if len(events) != len(p.Steps) {
		t.Errorf("%d events for %d steps", len(events), len(p.Steps))
	}
	// Independent parts of the lab still came up.
	found := false
	for _, id := range r.order {
		if id == "ready:www" {
			found = true
		}
	}
	if !found {
		t.Error("ready:www did not run though it does not depend on modemA")
	}
}

func TestCancelStopsNewSteps(t *testing.T) {
	p := plan(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{delay: 5 * time.Millisecond}
	n := 0
	res, err := Run(ctx, p, r, 2, func(Event) {
		if n++; n == 10 {
			cancel()
		}
	})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want interrupted", err)
	}
	if res.Skipped == 0 || len(r.order) >= len(p.Steps) {
		t.Errorf("ran %d of %d steps after cancel (%+v)", len(r.order), len(p.Steps), res)
	}
}
