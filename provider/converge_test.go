package provider

import (
	"context"
	"errors"
	"testing"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
)

// unlisted is a runtime that fails whatever it is asked: what reads it
// is seen by the error.
type unlisted struct{ engine.Runtime }

func (unlisted) List(context.Context, string) ([]engine.Container, error) {
	return nil, errors.New("listed")
}

// Changes with no removal among them (a first up's: all to add) read
// neither the lab's containers nor the host's interfaces.
func TestRemoveWithoutRemovalsReadsNothing(t *testing.T) {
	changes := []converge.Change{{Action: converge.Add, Object: converge.ObjNode, Node: "a", Name: "a"}}
	done, err := Remove(context.Background(), unlisted{}, "l", changes)
	if err != nil || done != nil {
		t.Fatalf("Remove = %v, %v; want nothing done, no error", done, err)
	}
	changes = append(changes, converge.Change{Action: converge.Remove, Object: converge.ObjNode, Node: "b", Name: "b"})
	if _, err := Remove(context.Background(), unlisted{}, "l", changes); err == nil || err.Error() != "listed" {
		t.Fatalf("Remove with a removal: %v; want the listing's error", err)
	}
}

// labRuntime is a host with one lab on a runtime of its own.
type labRuntime struct {
	engine.Runtime
	lab string
	own engine.Runtime
}

func (h labRuntime) LabRuntime(lab string) (engine.Runtime, error) {
	if lab != h.lab {
		return nil, errors.New("no such lab")
	}
	return h.own, nil
}

type oneNode struct{ engine.Runtime }

func (oneNode) List(context.Context, string) ([]engine.Container, error) {
	return []engine.Container{{ID: "l_a", Name: "l_a", Node: "a", State: "exited"}}, nil
}

func (oneNode) Inspect(_ context.Context, id string) (engine.Node, error) {
	return engine.Node{ID: id}, nil
}

// A page's state is read from the lab's own runtime alone: the host's
// List, which asks every runtime, is not called.
func TestLiveReadsTheLabsRuntime(t *testing.T) {
	h := labRuntime{Runtime: unlisted{}, lab: "l", own: oneNode{}}
	st, err := Live(context.Background(), h, "l")
	if err != nil || len(st) != 1 || st[0].Node != "a" || st[0].State != "exited" {
		t.Fatalf("Live = %+v, %v; want node a exited", st, err)
	}
}
