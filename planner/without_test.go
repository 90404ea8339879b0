package planner

import (
	"testing"
)

// TestWithout: a plan without a node's start has none of the steps that
// wait for it, directly or not, and keeps every other.
func TestWithout(t *testing.T) {
	p := &Plan{Steps: []*Step{
		{ID: "bridge:lan"},
		{ID: "create:a"}, {ID: "start:a", Deps: []string{"create:a"}},
		{ID: "create:b"}, {ID: "start:b", Deps: []string{"create:b"}},
		{ID: "port:a:eth0", Deps: []string{"start:a", "bridge:lan"}},
		{ID: "port:b:eth0", Deps: []string{"start:b", "bridge:lan"}},
		{ID: "addr:b:eth0", Deps: []string{"port:b:eth0"}},
		{ID: "link:a:p0=b:p0", Deps: []string{"start:a", "start:b"}},
	}}
	got := p.Without("start:b")
	var ids []string
	for _, s := range got.Steps {
		ids = append(ids, s.ID)
	}
	want := []string{"bridge:lan", "create:a", "start:a", "create:b", "port:a:eth0"}
	if len(ids) != len(want) {
		t.Fatalf("Without(start:b) = %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("Without(start:b) = %v, want %v", ids, want)
		}
	}
	if got.Step("addr:b:eth0") != nil || got.Step("port:a:eth0") == nil {
		t.Error("Step finds a removed step, or not a kept one")
	}
	if len(p.Steps) != 9 || p.Without() != p {
		t.Error("Without changed the plan, or made a copy for nothing")
	}
}
