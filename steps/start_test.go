package steps

import (
	"context"
	"fmt"
	"testing"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
)

// vanished is a runtime whose listed container is gone (the engine undid
// a create whose client went away): only what the start step asks.
type vanished struct {
	engine.Runtime
	made []string
}

func (v *vanished) Inspect(_ context.Context, id string) (engine.Node, error) {
	return engine.Node{}, fmt.Errorf("inspect container %s: %w", id, engine.ErrNoContainer)
}

func (v *vanished) Create(_ context.Context, _ string, c *planner.Container, _ []planner.Host, _ string) (string, error) {
	v.made = append(v.made, c.Name)
	return "made-again", nil
}

func (v *vanished) Start(_ context.Context, id string) (engine.Node, error) {
	if id != "made-again" {
		return engine.Node{}, fmt.Errorf("start container %s: %w", id, engine.ErrNoContainer)
	}
	return engine.Node{ID: id, Remote: true}, nil // Remote: no namespace to open here
}

// TestStartRemakesVanishedContainer: a container listed as the run began
// and gone by its start step is made again, as planned, and started.
func TestStartRemakesVanishedContainer(t *testing.T) {
	rt := &vanished{}
	e := &Executor{rt: rt, plan: &planner.Plan{Lab: "demo"}, existing: map[string]engine.Container{"a": {ID: "listed", Name: "demo_a", Node: "a"}},
		nodes: map[string]*running{}, started: map[string]bool{}, created: map[string]bool{}}
	s := &planner.Step{ID: "start:a", Kind: planner.KindStart, Node: "a", Container: &planner.Container{Name: "demo_a"}}
	changed, err := start.Do(context.Background(), e, s)
	if err != nil || !changed {
		t.Fatalf("start of a vanished container: changed %v, %v; want it made again and started", changed, err)
	}
	if len(rt.made) != 1 || rt.made[0] != "demo_a" || e.existing["a"].ID != "made-again" || !e.created["a"] || !e.started["a"] {
		t.Errorf("made %v, existing %+v, created %v, started %v", rt.made, e.existing["a"], e.created["a"], e.started["a"])
	}
}
