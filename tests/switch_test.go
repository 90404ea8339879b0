package tests

import (
	"os/exec"
	"testing"
	"time"

	"github.com/netlab/netlab/naming"
)

// TestWatcherRemakesADeletedBridge: a lab network's bridge deleted from
// the host (a switch pulled out) is made again by the lab's watcher, its
// nodes' ports on it, and they reach each other again.
func TestWatcherRemakesADeletedBridge(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.81.0.0/24}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.81.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.81.0.2/24}}}
`)
	l.mustPing("a", "10.81.0.2")
	if out, err := exec.Command("ip", "link", "del", naming.Bridge(l.name, "lan")).CombinedOutput(); err != nil {
		t.Fatalf("delete the bridge: %v %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !l.ping("a", "10.81.0.2") {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not make the deleted bridge again within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
