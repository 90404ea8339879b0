package internet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// load checks that a lab file loads, plans and asks nothing of the host.
func load(t *testing.T, data []byte, file string) *spec.Lab {
	t.Helper()
	lab, err := spec.Parse(data, file)
	if err != nil {
		t.Fatalf("%s does not load: %v\n%s", file, err, data)
	}
	if _, err := planner.BuildWith(lab, planner.Options{}); err != nil {
		t.Fatalf("%s does not plan: %v", file, err)
	}
	if r := trust.Requests(lab); len(r) != 0 {
		t.Fatalf("%s asks the host for %v", file, r)
	}
	return lab
}

// The small Internet is pinned; it and larger ones load and plan.
func TestGenerate(t *testing.T) {
	data, err := Generate(Options{ASes: 4, IXPs: 1})
	if err != nil {
		t.Fatal(err)
	}
	load(t, data, "internet.yaml")
	golden.Check(t, "testdata/internet-4.yaml", string(data))
	for _, o := range []Options{
		{ASes: 2, Routers: 1},
		{ASes: 12, Tier1: 3, Routers: 4, IXPs: 3},
		{ASes: 30, Routers: 3, IXPs: 2, NoConfig: true},
		{ASes: 100, Tier1: 4, Routers: 2, IXPs: 2},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			data, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			lab := load(t, data, "internet.yaml")
			if want := o.ASes * o.Routers * 2; len(lab.Nodes) != want+o.IXPs {
				t.Errorf("%d nodes, want %d", len(lab.Nodes), want+o.IXPs)
			}
		})
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{ASes: 1}, "1 ASes"},
		{Options{ASes: 200}, "200 ASes"},
		{Options{ASes: 4, Tier1: 4}, "fewer than all"},
		{Options{ASes: 4, Routers: 50}, "50 routers"},
		{Options{ASes: 4, IXPs: -1}, "-1 IXPs"},
	} {
		if _, err := Generate(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%+v) = %v, want an error saying %q", c.o, err, c.want)
		}
	}
}
