package planner_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
)

// The plan of every lab in labs/ is pinned by a golden file: its steps as
// netlab plan lists them, each described by its kind (package steps).
func TestGoldenPlans(t *testing.T) {
	files, _ := filepath.Glob("../labs/*.yaml")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			lab, err := spec.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := planner.Build(lab)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".plan"), steps.Table(p))
		})
	}
}
