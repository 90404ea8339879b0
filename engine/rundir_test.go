package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// needRoot skips without root, unless NETLAB_E2E=1 (CI), where it fails.
func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("NETLAB_E2E") == "1" {
			t.Fatal("needs root")
		}
		t.Skip("needs root")
	}
}

// withRunDir points RunDir at dir for the test.
func withRunDir(t *testing.T, dir string) {
	old := RunDir
	RunDir = dir
	t.Cleanup(func() { RunDir = old })
}

func TestRunDirOnDisk(t *testing.T) {
	needRoot(t)
	// A RunDir on a disk's file system: the lab's directory is a tmpfs of
	// its own, and down's removal leaves neither mount nor directory.
	base := t.TempDir()
	if onTmpfs(base) {
		t.Skip(base + " is on a tmpfs already")
	}
	withRunDir(t, base)
	dir := filepath.Join(base, "rdlab")
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := MakeRunDir("rdlab"); err != nil {
		t.Fatal(err)
	}
	if !onTmpfs(dir) || !Mounted(dir) {
		t.Fatalf("%s is not a tmpfs of its own", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "n1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "n1", "ready"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Made again (a second up): kept as it is, files and all.
	if err := MakeRunDir("rdlab"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "n1", "ready")); err != nil {
		t.Fatalf("a second MakeRunDir lost the lab's files: %v", err)
	}
	if err := RemoveRunDir("rdlab"); err != nil {
		t.Fatal(err)
	}
	if Mounted(dir) {
		t.Error("the lab's tmpfs is still mounted after RemoveRunDir")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the lab's run directory is still there: %v", err)
	}
}

func TestRunDirOnTmpfs(t *testing.T) {
	needRoot(t)
	// A RunDir on a tmpfs (/run on most systems): a plain directory.
	base := t.TempDir()
	if err := unix.Mount("netlab-test", base, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(base, unix.MNT_DETACH) })
	withRunDir(t, base)
	dir := filepath.Join(base, "rdlab")
	if err := MakeRunDir("rdlab"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("no run directory: %v", err)
	}
	if Mounted(dir) {
		t.Error("a mount of its own on a RunDir that is a tmpfs already")
	}
	if err := RemoveRunDir("rdlab"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the lab's run directory is still there: %v", err)
	}
}

// TestStateDir: StateLabs lists the labs with a state directory (not
// dot-files), and RemoveStateDir removes one lab's, nodes' layers and all,
// leaving the others'.
func TestStateDir(t *testing.T) {
	old := StateDir
	StateDir = t.TempDir()
	t.Cleanup(func() { StateDir = old })
	for _, d := range []string{"a/n1/upper/root", "b/n1/upper", ".tmp"} {
		if err := os.MkdirAll(filepath.Join(StateDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(StateDir, "a/n1/upper/root/kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := StateLabs(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("StateLabs: %v, want [a b]", got)
	}
	if err := RemoveStateDir("a"); err != nil {
		t.Fatal(err)
	}
	if got := StateLabs(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after RemoveStateDir(a): %v, want [b]", got)
	}
	if err := RemoveStateDir("gone"); err != nil {
		t.Errorf("RemoveStateDir of a lab without one: %v", err)
	}
}

// A lab with no name has no gate: its slots would sit in the run
// directory itself, shared by every lab and removed by no down.
func TestPrepareGateRefusesNoLab(t *testing.T) {
	dir := t.TempDir()
	withRunDir(t, dir)
	if err := PrepareGate(""); err == nil {
		t.Fatal("PrepareGate(\"\"): no error")
	}
	if _, err := os.Stat(filepath.Join(dir, ".gate")); !os.IsNotExist(err) {
		t.Fatalf("PrepareGate(\"\") made %s/.gate: %v", dir, err)
	}
	if err := PrepareGate("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", ".gate")); err != nil {
		t.Fatal(err)
	}
}
