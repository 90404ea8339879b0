package tests

import (
	"os/exec"
	"testing"
	"time"
)

// TestStartGateIsTheLabs: a node is root in itself and can lock its start
// gate's files (/.netlab/gate). A node of one lab holding its gate's hold
// file and a slot neither touches another lab's gate nor stops its own
// lab's next up (which goes on without the hold after a few seconds).
func TestStartGateIsTheLabs(t *testing.T) {
	parallel(t)
	needImages(t, "netlab/host")
	body := "defaults: {image: netlab/host}\nnodes:\n  a: {}\n"
	l := upWith(t, body, nil)
	other := &lab{t: t, name: l.name + "-b"}
	other.file = writeLab(t, other.name, body)
	t.Cleanup(func() { other.down() })
	if r := netlab(t, "up", other.file); r.code != 0 {
		t.Fatalf("netlab up %s: exit %d\n%s%s", other.name, r.code, r.stdout, r.stderr)
	}

	if out, code := l.exec("a", "sh", "-c", "for f in /.netlab/gate/hold /.netlab/gate/slot-0; do setsid flock -x $f sleep 600 </dev/null >/dev/null 2>&1 & done"); code != 0 {
		t.Fatalf("lock the gate from node a: exit %d %s", code, out)
	}
	locked := func(file string) bool {
		return exec.Command("flock", "-n", file, "true").Run() != nil
	}
	own := "/run/netlab/" + l.name + "/.gate/"
	for deadline := time.Now().Add(10 * time.Second); !locked(own+"hold") || !locked(own+"slot-0"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("node a's locks on %shold and slot-0 not seen from the host", own)
		}
	}
	for _, f := range []string{"hold", "slot-0"} {
		if theirs := "/run/netlab/" + other.name + "/.gate/" + f; locked(theirs) {
			t.Errorf("%s is locked: node a of lab %s reaches lab %s's start gate", theirs, l.name, other.name)
		}
	}

	done := make(chan result, 1)
	go func() { done <- netlab(t, "up", l.file) }()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("netlab up with the gate held by a node: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("netlab up did not return in 3 minutes with the hold file locked by a node: a node stops its lab's up")
	}
}
