package tests

import (
	"strings"
	"testing"
)

// A link set down and up at run time, and a node stopped and started
// again: start wires it from the lab file with no up typed.
func TestFaultsLinkAndNode(t *testing.T) {
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.66.0.0/24}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.66.0.1/24}, eth1: {address: 10.67.0.1/30}}}
  b: {interfaces: {eth0: {network: lan, address: 10.66.0.2/24}}}
  c: {interfaces: {eth0: {address: 10.67.0.2/30}}}
links: [[a:eth1, c:eth0]]
`)
	l.mustPing("a", "10.66.0.2")
	if r := netlab(t, "link", l.name, "b:eth0", "down"); r.code != 0 || !strings.Contains(r.stdout, "b:eth0 down (host side)") {
		t.Fatalf("link down: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if l.ping("a", "10.66.0.2") {
		t.Error("b:eth0's cable is pulled, but a still pings b")
	}
	if out, _ := l.exec("b", "ip", "link", "show", "eth0"); !strings.Contains(out, "NO-CARRIER") {
		t.Errorf("b:eth0 should see no carrier:\n%s", out)
	}
	netlab(t, "link", l.name, "b:eth0", "up")
	l.mustPing("a", "10.66.0.2")
	// A point-to-point link end goes down in the node.
	if r := netlab(t, "link", l.name, "c:eth0", "down"); r.code != 0 || !strings.Contains(r.stdout, "(in the node)") {
		t.Fatalf("link down on a link end: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if l.ping("a", "10.67.0.2") {
		t.Error("c:eth0 is down, but a pings c")
	}
	// up restores what the file says.
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("up: %s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.67.0.2")
	if r := netlab(t, "link", l.name, "nosuch:eth0", "down"); r.code != 2 || !strings.Contains(r.stderr, `no node "nosuch"`) {
		t.Errorf("unknown node: exit %d %s", r.code, r.stderr)
	}
	// Stop, then start: wired again without an up.
	if r := netlab(t, "stop", l.name, "b"); r.code != 0 {
		t.Fatalf("stop: %s%s", r.stdout, r.stderr)
	}
	if l.ping("a", "10.66.0.2") {
		t.Error("b is stopped, but a pings it")
	}
	if r := netlab(t, "start", l.name, "b"); r.code != 0 {
		t.Fatalf("start: %s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.66.0.2")
	if r := netlab(t, "restart", l.name, "c"); r.code != 0 {
		t.Fatalf("restart: %s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.67.0.2")
}
