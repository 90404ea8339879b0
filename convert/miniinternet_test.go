package convert

import (
	"errors"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// loadsAndPlans checks that a converted lab loads, plans and asks the host
// for nothing.
func loadsAndPlans(t *testing.T, data []byte) *spec.Lab {
	t.Helper()
	lab, err := spec.Parse(data, "mini.yaml")
	if err != nil {
		t.Fatalf("the converted lab does not load: %v\n%s", err, data)
	}
	if _, err := planner.BuildWith(lab, planner.Options{}); err != nil {
		t.Fatalf("the converted lab does not plan: %v", err)
	}
	if r := trust.Requests(lab); len(r) != 0 {
		t.Fatalf("the converted lab asks the host for %v", r)
	}
	return lab
}

// A small mini-Internet (two tier-1 ASes, a NoConfig AS with a switched
// network and VLANs, an all-in-one stub, an IXP) is pinned with its notes.
func TestMiniInternetGolden(t *testing.T) {
	const dir = "testdata/mini/small"
	if !IsMiniInternet(dir) || IsKathara(dir) {
		t.Fatal("the fixture is not recognised as a mini-Internet")
	}
	r, ok, err := Convert(dir)
	if !ok || err != nil {
		t.Fatalf("Convert(%s) = %v, %v", dir, ok, err)
	}
	lab := loadsAndPlans(t, r.YAML)
	got := string(r.YAML)
	for _, n := range r.Notes {
		got += "# note: " + strings.ReplaceAll(n.String(), dir, "$TESTDATA") + "\n"
	}
	golden.Check(t, "testdata/mini/small.golden", got)

	if lab.Nodes["as3-zuri"].Routing != nil || lab.Nodes["as3-fifa-1"].Gateway != nil {
		t.Error("the NoConfig AS 3 got routing or gateways")
	}
	if g := lab.Nodes["as3-fifa-1"].Group; g != "3" {
		t.Errorf("as3-fifa-1 is in group %q, want 3", g)
	}
	data, _, err := MiniInternetWith(dir, MiniInternetOptions{ConfigureAll: true})
	if err != nil {
		t.Fatal(err)
	}
	all := loadsAndPlans(t, data)
	if all.Nodes["as3-zuri"].Routing == nil || all.Nodes["as3-fifa-1"].Gateway == nil {
		t.Error("configureAll left AS 3 without routing or gateways")
	}
}

// Lines that cannot be mapped are refused, each with its file and line.
func TestMiniInternetRefuses(t *testing.T) {
	const dir = "testdata/mini/bad"
	_, _, err := MiniInternet(dir)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("MiniInternet(%s) = %v, want a *convert.Error", dir, err)
	}
	golden.Check(t, "testdata/mini/bad.golden", strings.ReplaceAll(err.Error(), dir, "$TESTDATA")+"\n")
}
