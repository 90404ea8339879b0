package provider

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKnownBuilds: a build copied once is found again by its files'
// identity, which a rewrite of either file changes; a build whose copy
// went, or is not whole, is not found.
func TestKnownBuilds(t *testing.T) {
	old := InitDir
	InitDir = t.TempDir()
	t.Cleanup(func() { InitDir = old })
	src := t.TempDir()
	files := []string{filepath.Join(src, "netlab"), filepath.Join(src, InitName)}
	for _, f := range files {
		if err := os.WriteFile(f, []byte("v1 "+f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key, err := identity(files)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := knownBuild(key, 2); ok {
		t.Fatal("a build known before it was installed")
	}
	name := initPrefix + "0123456789abcdef"
	for _, f := range []string{"netlab", InitName} {
		os.MkdirAll(filepath.Join(InitDir, name), 0o755)
		os.WriteFile(filepath.Join(InitDir, name, f), nil, 0o755)
	}
	rememberBuild(key, name)
	if got, ok := knownBuild(key, 2); !ok || got != name {
		t.Errorf("knownBuild = %q, %v; want %q", got, ok, name)
	}
	if _, ok := knownBuild(key, 1); ok {
		t.Error("a build of two files found for one")
	}
	// netlab-init rebuilt: another identity.
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(files[1], []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if now, _ := identity(files); now == key {
		t.Error("a rewritten file keeps its identity")
	}
	// The copy removed (a prune, or by hand): hash again.
	os.RemoveAll(filepath.Join(InitDir, name))
	if _, ok := knownBuild(key, 2); ok {
		t.Error("a removed build is still known")
	}
}
