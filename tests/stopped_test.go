package tests

import (
	"testing"
	"time"
)

// TestWatcherLeavesStoppedNodesStopped: a node stopped with netlab stop
// stays stopped when the lab's watcher repairs the lab for another node
// restarted behind netlab's back; netlab start brings it back wired.
func TestWatcherLeavesStoppedNodesStopped(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.79.0.0/24}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.79.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.79.0.2/24}}}
  c: {interfaces: {eth0: {network: lan, address: 10.79.0.3/24}}}
`)
	if r := netlab(t, "stop", l.name, "b"); r.code != 0 {
		t.Fatalf("stop b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.restart("c")
	deadline := time.Now().Add(30 * time.Second)
	for !l.ping("a", "10.79.0.3") {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not rewire c within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // a repair that would start b has had its chance
	if l.reaches("a", "10.79.0.2") {
		t.Error("b answers after the watcher's repair: it was started again")
	}
	if r := netlab(t, "start", l.name, "b"); r.code != 0 {
		t.Fatalf("start b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.79.0.2")
}
