package runc

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// The sealed copy carries exactly the seals runc checks for (or runc
// copies itself again), refuses writes, and runs.
func TestSealedCopy(t *testing.T) {
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true command")
	}
	f, err := sealedCopy(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil || seals != sealedRuncSeals {
		t.Fatalf("seals %#x (%v), want %#x", seals, err, sealedRuncSeals)
	}
	if _, err := f.WriteAt([]byte{0}, 0); err == nil {
		t.Error("a write to the sealed copy succeeded")
	}
	if out, err := exec.Command(fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd())).CombinedOutput(); err != nil {
		t.Errorf("run the sealed copy: %v %s", err, out)
	}
	if _, err := sealedCopy("/nonexistent/runc"); err == nil {
		t.Error("a copy of a missing binary succeeded")
	}
}
