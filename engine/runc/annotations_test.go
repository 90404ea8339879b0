package runc

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
)

// List reads a node's labels from its config.json once per version of
// the file: a config written again (renamed over) is read again, a node
// removed is forgotten.
func TestListAnnotationsByVersion(t *testing.T) {
	state, run := t.TempDir(), t.TempDir()
	oldState, oldRun := engine.StateDir, engine.RunDir
	engine.StateDir, engine.RunDir = state, run
	t.Cleanup(func() { engine.StateDir, engine.RunDir = oldState, oldRun })
	write := func(lab, node, image string) {
		t.Helper()
		dir := filepath.Join(state, lab, node)
		os.MkdirAll(dir, 0o755)
		data, _ := json.Marshal(map[string]any{"ociVersion": "1.0.2", "annotations": map[string]string{
			naming.LabelLab: lab, naming.LabelNode: node, annotationImage: image, annotationLower: "/img/" + image}})
		if err := writeConfigFile(dir, data); err != nil {
			t.Fatal(err)
		}
	}
	r := &Runc{root: t.TempDir()}
	ctx := context.Background()
	images := func(lab string) map[string]string {
		t.Helper()
		list, err := r.List(ctx, lab)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range list {
			if c.Labels[naming.LabelNode] != c.Node || c.ImageRoot != "/img/"+c.Image || c.State != "created" {
				t.Errorf("listed %+v", c)
			}
			out[c.ID] = c.Image
		}
		return out
	}
	write("la", "a", "tiny")
	write("la", "b", "tiny")
	write("lb", "a", "frr")
	if got := images("la"); len(got) != 2 || got["la_a"] != "tiny" || got["la_b"] != "tiny" {
		t.Fatalf("lab la: %v", got)
	}
	write("la", "a", "alpine") // made again with another image
	if got := images("la"); len(got) != 2 || got["la_a"] != "alpine" {
		t.Fatalf("lab la after its node a changed: %v", got)
	}
	if got := images(""); len(got) != 3 || got["lb_a"] != "frr" || got["la_a"] != "alpine" {
		t.Fatalf("every lab: %v", got)
	}
	os.RemoveAll(filepath.Join(state, "la", "b"))
	if got := images("la"); len(got) != 1 {
		t.Fatalf("lab la after its node b went: %v", got)
	}
	if _, kept := r.annotations.files[filepath.Join(state, "la", "b", "config.json")]; kept || len(r.annotations.files) != 2 {
		t.Errorf("kept after List: %v", r.annotations.files)
	}
	os.RemoveAll(filepath.Join(state, "lb"))
	if got := images(""); len(got) != 1 || len(r.annotations.files) != 1 {
		t.Fatalf("every lab after lb went: %v, kept %v", got, r.annotations.files)
	}
}
