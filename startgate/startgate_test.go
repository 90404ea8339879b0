package startgate

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPrepare: exactly n slot files, fewer when n shrinks.
func TestPrepare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gate")
	if err := Prepare(dir, 12); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(dir, 3); err != nil {
		t.Fatal(err)
	}
	names, err := slotNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"slot-0", "slot-1", "slot-2"}; !slices.Equal(names, want) {
		t.Fatalf("slots %v, want %v", names, want)
	}
}

// TestAcquire: two slots let two holders in at once; a third waits until
// one lets go, or runs without a slot when its wait runs out.
func TestAcquire(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gate")
	if err := Prepare(dir, 2); err != nil {
		t.Fatal(err)
	}
	a, waited, err := Acquire(dir, time.Minute)
	if err != nil || a == nil || waited > time.Second {
		t.Fatalf("first: slot %v, waited %s, %v", a, waited, err)
	}
	b, waited, err := Acquire(dir, time.Minute)
	if err != nil || b == nil || waited > time.Second {
		t.Fatalf("second: slot %v, waited %s, %v", b, waited, err)
	}
	if c, waited, err := Acquire(dir, 50*time.Millisecond); err != nil || c != nil || waited < 50*time.Millisecond {
		t.Fatalf("third with both held: slot %v after %s, %v; want none after its wait", c, waited, err)
	}
	got := make(chan *os.File)
	go func() {
		c, _, _ := Acquire(dir, time.Minute)
		got <- c
	}()
	select {
	case c := <-got:
		t.Fatalf("third took slot %v while both were held", c)
	case <-time.After(200 * time.Millisecond):
	}
	a.Close()
	b.Close() // the third waits on one of the two, chosen at random
	select {
	case c := <-got:
		if c == nil {
			t.Fatal("third got no slot once both were free")
		}
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("third still waiting after both slots were freed")
	}
}

// TestAcquireNoGate: without slot files, no slot and no error.
func TestAcquireNoGate(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "none"), t.TempDir()} {
		if f, _, err := Acquire(dir, time.Second); f != nil || err != nil {
			t.Fatalf("%s: slot %v, %v; want none", dir, f, err)
		}
	}
}

// TestRun: the command's exit status comes back.
func TestRun(t *testing.T) {
	for cmd, want := range map[string]int{"true": 0, "false": 1} {
		if got := Run([]string{"/bin/sh", "-c", cmd}, os.Stderr); got != want {
			t.Errorf("%s: exit %d, want %d", cmd, got, want)
		}
	}
	if got := Run(nil, os.Stderr); got != 2 {
		t.Errorf("no command: exit %d, want 2", got)
	}
}

// TestHold: a start waits while an up holds the gate, and takes a slot
// once it lets go; two ups hold it at once.
func TestHold(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gate")
	if err := Prepare(dir, 2); err != nil {
		t.Fatal(err)
	}
	release, held, err := Hold(dir)
	if err != nil || !held {
		t.Fatal(held, err)
	}
	release2, held, err := Hold(dir)
	if err != nil || !held {
		t.Fatal(held, err)
	}
	if f, waited, _ := Acquire(dir, 50*time.Millisecond); f != nil || waited < 50*time.Millisecond {
		t.Fatalf("took slot %v after %s while the gate was held", f, waited)
	}
	got := make(chan *os.File)
	go func() {
		f, _, _ := Acquire(dir, time.Minute)
		got <- f
	}()
	release()
	select {
	case f := <-got:
		t.Fatalf("took slot %v while a second up held the gate", f)
	case <-time.After(200 * time.Millisecond):
	}
	release2()
	select {
	case f := <-got:
		if f == nil {
			t.Fatal("no slot once the gate was let go")
		}
		f.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting after the gate was let go")
	}
}

// TestHoldNotStoppedByANode: a node holding the hold file exclusive (it
// can: it reads the file) does not stop an up; the up goes on after
// HoldWait without the hold, and starts do not wait for it.
func TestHoldNotStoppedByANode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gate")
	if err := Prepare(dir, 1); err != nil {
		t.Fatal(err)
	}
	node, err := os.Open(filepath.Join(dir, holdName))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if err := unix.Flock(int(node.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	release, held, err := Hold(dir)
	if err != nil || held {
		t.Fatalf("Hold with the file locked by a node: held %v, %v; want not held, no error", held, err)
	}
	if waited := time.Since(start); waited < HoldWait || waited > HoldWait+5*time.Second {
		t.Errorf("Hold gave up after %s, want about %s", waited, HoldWait)
	}
	release()
	node.Close() // the node lets go: the hold is taken at once again
	release, held, err = Hold(dir)
	if err != nil || !held {
		t.Fatalf("Hold once the node let go: held %v, %v", held, err)
	}
	release()
}
