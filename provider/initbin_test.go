package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
