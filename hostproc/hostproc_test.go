package hostproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestCloseOnExec: a descriptor this process got without close-on-exec
// (as from a caller's flock(1)) is not passed on to what it starts once
// CloseOnExec ran.
func TestCloseOnExec(t *testing.T) {
	fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0) // no O_CLOEXEC: inherited by children
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	inherited := func() bool {
		out, err := exec.Command("sh", "-c", "ls /proc/self/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(" "+strings.Join(strings.Fields(string(out)), " ")+" ", " "+strconv.Itoa(fd)+" ")
	}
	if !inherited() {
		t.Fatalf("fd %d opened without close-on-exec is not seen by a child: the test proves nothing", fd)
	}
	CloseOnExec()
	if inherited() {
		t.Errorf("fd %d still reaches a child after CloseOnExec", fd)
	}
}

// Runs tells this process's program from a copy of it and from another.
func TestRuns(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !Runs(os.Getpid(), self) {
		t.Errorf("Runs(self, %s) = false", self)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if err := os.WriteFile(cp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if Runs(os.Getpid(), cp) {
		t.Error("Runs(self, a copy) = true")
	}
	if Runs(os.Getpid(), "/nonexistent") || Runs(1<<30, self) {
		t.Error("Runs of a missing file or process = true")
	}
}
