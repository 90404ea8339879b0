package tests

import (
	"strings"
	"testing"
	"time"
)

// A student configures the network from inside a node: addresses, routes and
// the node's own sysctls, run here from the node's own command. Host-global
// sysctls stay read-only, and cap_drop takes the power away again.
func TestStudentNodeConfiguresItsNetwork(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes:
  a:
    interfaces: {eth0: {}}
    command: >-
      ip addr add 10.9.0.1/24 dev eth0 && ip route add 10.99.0.0/16 via 10.9.0.2 &&
      sysctl -w net.ipv4.ip_forward=1 && echo configured > /tmp/state;
      if echo 1 > /proc/sys/vm/drop_caches; then echo vm-writable >> /tmp/state; fi;
      if echo other > /proc/sys/kernel/hostname; then echo kernel-writable >> /tmp/state; fi;
      exec sleep 3600
  b:
    interfaces: {eth0: {address: 10.9.0.2/24}}
    cap_drop: [NET_ADMIN]
    command: "ip addr add 10.9.0.3/24 dev eth0 2>/tmp/err; exec sleep 3600"
links: [[a:eth0, b:eth0]]
`)
	var out string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, _ = l.exec("a", "cat", "/tmp/state"); strings.Contains(out, "configured") {
			break
		}
	}
	if strings.TrimSpace(out) != "configured" {
		t.Fatalf("node a could not configure itself, or could write a host-global sysctl: /tmp/state = %q", out)
	}
	if out, _ := l.exec("a", "ip", "route"); !strings.Contains(out, "10.99.0.0/16 via 10.9.0.2") {
		t.Errorf("route added in the node is missing:\n%s", out)
	}
	if out, _ := l.exec("a", "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(out) != "1" {
		t.Errorf("ip_forward in a = %q, want 1", out)
	}
	l.mustPing("a", "10.9.0.2")
	// An interactive student does the same through exec.
	if out, code := l.exec("a", "ip", "link", "set", "eth0", "mtu", "1400"); code != 0 {
		t.Errorf("ip link set from exec: exit %d: %s", code, out)
	}
	if out, _ := l.exec("b", "cat", "/tmp/err"); !strings.Contains(out, "not permitted") {
		t.Errorf("b dropped NET_ADMIN but ip addr add did not fail with EPERM: %q", out)
	}
}
