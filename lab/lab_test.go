package lab

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/faults"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
)

func TestLoad(t *testing.T) {
	l, notes, err := Load("fopnp") // a bundled lab, by name
	if err != nil || l.Name != "fopnp" || len(notes) != 0 {
		t.Fatalf("Load(fopnp) = %v, %v, %v", l, notes, err)
	}
	_, _, err = Load("/no/such/lab.yaml")
	if !IsUsage(err) || !strings.Contains(err.Error(), "lab file /no/such/lab.yaml does not exist") {
		t.Errorf("a missing file: %v (usage: %v)", err, IsUsage(err))
	}
	_, _, err = Load("../spec/testdata/invalid/unknown-key.yaml")
	if err == nil || !errors.Is(err, spec.ErrInvalid) || !IsUsage(err) {
		t.Errorf("an invalid file: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	err := fromFaults(fmt.Errorf("%w: lab x has no node %q (known: a, b)", faults.ErrUsage, "c"))
	if !IsUsage(err) || err.Error() != `lab x has no node "c" (known: a, b)` {
		t.Errorf("fromFaults: %q (usage: %v)", err, IsUsage(err))
	}
	if err := fromFaults(errors.New("engine gone")); IsUsage(err) {
		t.Errorf("a host error is not a usage error: %v", err)
	}
	if IsUsage(nil) || IsUsage(errors.New("x")) {
		t.Error("IsUsage of nil or a plain error")
	}
}

func TestUpto(t *testing.T) {
	l, err := spec.Parse([]byte(`name: s
defaults: {image: netlab/tiny}
nodes: {a: {}}
stages:
  - {name: one, title: First}
  - {name: two, setup: [{on: a, run: "true"}]}
`), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := upto(l, "two"); err != nil || len(s) != 2 {
		t.Errorf("upto(two) = %v, %v", s, err)
	}
	if s, err := upto(l, ""); err != nil || s != nil {
		t.Errorf("upto(\"\") = %v, %v", s, err)
	}
	if _, err := upto(l, "three"); !IsUsage(err) || !strings.Contains(err.Error(), `no stage "three" (stages: one, two)`) {
		t.Errorf("upto(three): %v", err)
	}
}

func TestDiedErrorSaysWhatEnded(t *testing.T) {
	e := &DiedError{Lab: "l", Nodes: []DeadNode{
		{Node: "a", Code: 3, Log: "cannot find my config\nbye\n"},
		{Node: "b", Code: -1, StopErr: errors.New("gone")},
	}}
	want := "node a: its command ended right after it started, with exit code 3; its last lines:\n" +
		"  | cannot find my config\n  | bye\n" +
		"node b: its command ended right after it started; its last lines:\n" +
		"  (could not stop it: gone)\n" +
		"lab l: 2 nodes ended at start and stopped (a, b): fix the command or image in the file and run netlab up again; netlab logs l a shows all of it"
	if got := e.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestStepEvents: events from many goroutines reach Progress one at a
// time, numbered, and the nodes whose ready step did something are the
// nodes released.
func TestStepEvents(t *testing.T) {
	var got []Event
	var inside sync.Mutex
	s := newStepEvents("l", 40, func(e Event) {
		if !inside.TryLock() {
			t.Error("two events at once")
			return
		}
		defer inside.Unlock()
		time.Sleep(time.Millisecond)
		got = append(got, e)
	})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &planner.Step{ID: fmt.Sprint("s", i), Kind: planner.KindAddr, Node: "n"}
			out := apply.Unchanged
			if i%10 == 0 {
				st.Kind, st.Node, out = planner.KindReady, fmt.Sprint("n", i), apply.Changed
			}
			s.event(apply.Event{Step: st, Outcome: out})
		}()
	}
	wg.Wait()
	if len(got) != 40 || got[39].N != 40 || got[0].N != 1 || got[0].Total != 40 || got[0].Kind != EventStep {
		t.Fatalf("%d events, last %+v", len(got), got[len(got)-1])
	}
	if r := s.released(); len(r) != 4 {
		t.Errorf("released %v, want the 4 ready nodes", r)
	}
}
