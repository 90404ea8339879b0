package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/naming"
)

// TestFileID: a Go binary is named by its build ID and size (another
// build, or bytes appended, is another name), any other file by its
// content's hash.
func TestFileID(t *testing.T) {
	self, err := os.Executable() // the test binary: a Go build
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	id := func(p string) string {
		got, err := fileID(p)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b := id(write("a", data)), id(write("b", data))
	longer := id(write("c", append(data, "more"...)))
	if !strings.HasPrefix(a, "go:") || a != b || a == longer {
		t.Errorf("copies %q and %q, with bytes appended %q", a, b, longer)
	}
	x, y := id(write("x", []byte("#!/bin/sh\n"))), id(write("y", []byte("#!/bin/sh\nexit 1\n")))
	if !strings.HasPrefix(x, "sha256:") || x == y {
		t.Errorf("scripts: %q and %q", x, y)
	}
	if _, err := fileID(filepath.Join(dir, "gone")); err == nil {
		t.Error("a missing file has an ID")
	}
}

// TestPruneInits: down removes the builds in InitDir that no node runs,
// but the one it is told to keep (down --keep-cache: its own).
func TestPruneInits(t *testing.T) {
	base := t.TempDir()
	oldInit, oldRun := InitDir, RunDir
	InitDir, RunDir = filepath.Join(base, "init"), filepath.Join(base, "run")
	t.Cleanup(func() { InitDir, RunDir = oldInit, oldRun })
	for _, b := range []string{"netlab-used", "netlab-kept", "netlab-old"} {
		if err := os.MkdirAll(filepath.Join(InitDir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(InitDir, ".lock"), nil, 0o644)
	// A node of lab pl that runs the build netlab-used.
	r := lister{list: []Container{{Node: "a", Labels: map[string]string{naming.LabelLab: "pl", naming.LabelNode: "a",
		naming.LabelInit: filepath.Join(InitDir, "netlab-used", InitName)}}}}
	n, err := PruneInits(context.Background(), r, filepath.Join(InitDir, "netlab-kept"))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(InitDir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if n != 1 || strings.Join(left, " ") != ".lock netlab-kept netlab-used" {
		t.Errorf("pruned %d, left %v; want 1 pruned, .lock netlab-kept netlab-used left", n, left)
	}
}

// lister is a Runtime that only lists its containers: all that
// PruneInits asks of one.
type lister struct {
	Runtime // nil: any other call panics
	list    []Container
}

func (l lister) List(context.Context, string) ([]Container, error) { return l.list, nil }
