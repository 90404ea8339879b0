//go:build !noserve

package store

import "testing"

func TestClassLimits(t *testing.T) {
	s, ctx := open(t), t.Context()
	c, err := s.AddClass(ctx, Class{Name: "net1", Source: "p2p", Per: "student"})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.ClassLimits(ctx, c.ID); err != nil || !l.IsZero() {
		t.Errorf("a new class's limits: %+v, %v; want none", l, err)
	}
	want := Limits{Labs: 1, Nodes: 8, CPUs: 0.5, Memory: "128MiB", Pids: 64}
	for _, l := range []Limits{{Labs: 3}, want} { // the second replaces the first
		if err := s.SetLimits(ctx, c.ID, l); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.ClassLimits(ctx, c.ID); err != nil || got != want {
		t.Errorf("limits %+v, %v; want %+v", got, err, want)
	}
}
