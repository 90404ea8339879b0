package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A link set down and up at run time, and a node stopped and started
// again: start wires it from the lab file with no up typed.
func TestFaultsLinkAndNode(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.66.0.0/24}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.66.0.1/24}, eth1: {address: 10.67.0.1/30}}}
  b: {interfaces: {eth0: {network: lan, address: 10.66.0.2/24}}}
  c: {interfaces: {eth0: {address: 10.67.0.2/30}}}
links: [[a:eth1, c:eth0]]
checks: [{from: a, ping: b}, {from: a, ping: c}]
`)
	l.mustPing("a", "10.66.0.2")
	if r := netlab(t, "link", l.name, "b:eth0", "down"); r.code != 0 || !strings.Contains(r.stdout, "b:eth0 down (host side)") {
		t.Fatalf("link down: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if l.reaches("a", "10.66.0.2") {
		t.Error("b:eth0's cable is pulled, but a still pings b")
	}
	if out, _ := l.exec("b", "ip", "link", "show", "eth0"); !strings.Contains(out, "NO-CARRIER") {
		t.Errorf("b:eth0 should see no carrier:\n%s", out)
	}
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "10.66.0.2/24 (no carrier") {
		t.Errorf("status does not show b:eth0's pulled cable:\n%s", r.stdout)
	}
	if r := netlab(t, "check", l.file); r.code != 1 || !strings.Contains(r.stdout, "1 passed, 1 failed") {
		t.Errorf("with b's cable pulled, check: exit %d\n%s", r.code, r.stdout)
	}
	// up restores what the file says: the port's host side comes up again.
	if r := netlab(t, "up", l.file); r.code != 0 || !strings.Contains(r.stdout, "is up:") {
		t.Fatalf("up after a pulled cable: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.66.0.2")
	l.passChecks()
	// A point-to-point link end goes down in the node.
	if r := netlab(t, "link", l.name, "c:eth0", "down"); r.code != 0 || !strings.Contains(r.stdout, "(in the node)") {
		t.Fatalf("link down on a link end: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if l.reaches("a", "10.67.0.2") {
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
	if l.reaches("a", "10.66.0.2") {
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
	l.passChecks()
}

// netlab logs shows a node's command's output.
func TestLogs(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes:
  a: {command: "echo hello from a; exec sleep 3600"}
`)
	var r result
	for i := 0; i < 20; i++ {
		if r = netlab(t, "logs", l.name, "a"); strings.Contains(r.stdout, "hello from a") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "hello from a") {
		t.Errorf("netlab logs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "logs", l.name, "nosuch"); r.code != 2 {
		t.Errorf("logs of an unknown node: exit %d %s", r.code, r.stderr)
	}
}

// Shell completion lists running labs, their nodes and interfaces.
func TestCompletionOfRunningLabs(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	if r := netlab(t, "--generate-bash-completion"); !strings.Contains(r.stdout, "capture\n") {
		t.Errorf("commands not completed:\n%s", r.stdout)
	}
	if r := netlab(t, "exec", "--generate-bash-completion"); !strings.Contains(r.stdout, l.name+"\n") {
		t.Errorf("lab %s not completed:\n%s", l.name, r.stdout)
	}
	if r := netlab(t, "link", l.name, "--generate-bash-completion"); r.stdout != "a:eth0\nb:eth0\n" {
		t.Errorf("interfaces completed as %q", r.stdout)
	}
}

// rtt is the shortest round trip of three pings, in ms (-1 if none came
// back): the shortest, because a busy host delays a reply now and then,
// never speeds one up.
func (l *lab) rtt(node, addr string) float64 {
	out, _ := l.exec(node, "ping", "-c", "3", "-i", "0.2", "-W", "3", addr)
	i := strings.Index(out, "min/avg/max = ")
	if i < 0 {
		return -1
	}
	var ms float64
	fmt.Sscanf(out[i+len("min/avg/max = "):], "%f", &ms)
	return ms
}

// A plain link impaired at run time and cleared again, its nodes running
// on with their addresses.
func TestImpairAtRunTime(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	l.mustPing("a", "10.1.1.2")
	// The start time of the node's PID 1 (its stat's 22nd field) tells
	// a restart; the rest of the line (CPU times) moves with its work.
	started := `cut -d')' -f2 /proc/1/stat | cut -d' ' -f21`
	before, _ := l.exec("a", "sh", "-c", started)
	if r := netlab(t, "impair", l.name, "a:eth0", "--delay", "100ms"); r.code != 0 || !strings.Contains(r.stdout, "delay 100ms") {
		t.Fatalf("impair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if ms := l.rtt("a", "10.1.1.2"); ms < 190 {
		t.Errorf("with 100 ms each way, a round trip took %.1f ms", ms)
	}
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "(impaired: delay 100ms)") {
		t.Errorf("status does not show the impairment:\n%s", r.stdout)
	}
	if r := netlab(t, "impair", l.name, "b:eth0", "--delay", "10ms"); r.code != 0 {
		t.Fatalf("impair again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if ms := l.rtt("a", "10.1.1.2"); ms < 18 || ms > 150 {
		t.Errorf("with 10 ms each way, a round trip took %.1f ms", ms)
	}
	if r := netlab(t, "impair", l.name, "a:eth0", "--clear"); r.code != 0 || !strings.Contains(r.stdout, "plain link again") {
		t.Fatalf("impair --clear: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if ms := l.rtt("a", "10.1.1.2"); ms < 0 || ms > 10 {
		t.Errorf("after --clear, a round trip took %.1f ms", ms)
	}
	if after, _ := l.exec("a", "sh", "-c", started); after != before || strings.TrimSpace(before) == "" {
		t.Error("node a was restarted by impair")
	}
	if r := netlab(t, "impair", l.name, "a:eth0", "--delay", "soon"); r.code != 2 || !strings.Contains(r.stderr, `"soon" is not a duration`) {
		t.Errorf("bad delay: exit %d %s", r.code, r.stderr)
	}
}

// A lab stays wired by itself: after docker restart, or docker stop and
// start, of a node, its watcher rewires it within seconds, with no command
// typed; down stops the watcher.
func TestWatcherRewiresRestartedNodes(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "watcher: running") {
		t.Fatalf("no watcher after up:\n%s", r.stdout)
	}
	if l.onRunc() {
		// No engine restarts a runc node: the watcher sees its process end
		// (a pidfd), starts it again and rewires it; one stopped on purpose
		// stays down.
		l.kill("b")
		start := time.Now()
		ok := l.pingsWithin("a", "10.1.1.2", 5*time.Second)
		if !ok {
			log, _ := os.ReadFile("/run/netlab/" + l.name + "/watch.log")
			t.Fatalf("after b's process was killed, b was not started and rewired within 5 s; watcher log:\n%s", log)
		}
		t.Logf("b killed: answers again after %s", time.Since(start).Round(time.Millisecond))
		l.stop("b")
		time.Sleep(2 * time.Second)
		if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "│ b    │ exited") {
			t.Errorf("the watcher started b again after netlab stop:\n%s", r.stdout)
		}
		return
	}
	for _, restart := range [][]string{{"restart", "-t", "0"}, {"stop", "-t", "0"}} {
		args := append(append([]string{}, restart...), l.name+"_b")
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v %s", args, err, out)
		}
		if restart[0] == "stop" {
			if out, err := exec.Command("docker", "start", l.name+"_b").CombinedOutput(); err != nil {
				t.Fatalf("docker start: %v %s", err, out)
			}
		}
		start := time.Now()
		ok := l.pingsWithin("a", "10.1.1.2", 5*time.Second)
		if !ok {
			log, _ := os.ReadFile("/run/netlab/" + l.name + "/watch.log")
			t.Fatalf("after docker %s, b was not rewired within 5 s; watcher log:\n%s", restart[0], log)
		}
		t.Logf("docker %s: b answers again after %s", restart[0], time.Since(start).Round(time.Millisecond))
	}
}

// What up could not see before: a bridge port detached or set down on the
// host, an address and a route removed in a node. status says so, and up
// repairs it.
func TestStatusAndUpSeeHostSideDrift(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.68.0.0/24}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.68.0.1/24}}, routes: [{to: 10.99.0.0/16, via: 10.68.0.2}]}
  b: {interfaces: {eth0: {network: lan, address: 10.68.0.2/24}}}
`)
	l.stopWatcher()
	out, _ := exec.Command("sh", "-c", "ip -o link show | grep -o 'nlp[0-9a-f]*' | sort -u").Output()
	var portA string
	for _, p := range strings.Fields(string(out)) {
		if alias, _ := os.ReadFile("/sys/class/net/" + p + "/ifalias"); strings.HasPrefix(string(alias), "netlab:"+l.name+":port:a:eth0") {
			portA = p
		}
	}
	if portA == "" {
		t.Fatal("a:eth0's host end not found")
	}
	ipCmd(t, "link", "set", portA, "nomaster")
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "detached from its bridge on the host") {
		t.Errorf("status does not see the detached port:\n%s", r.stdout)
	}
	l.exec("a", "ip", "route", "del", "10.99.0.0/16")
	l.exec("b", "ip", "addr", "del", "10.68.0.2/24", "dev", "eth0")
	if r := netlab(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.68.0.2")
	if out, _ := l.exec("a", "ip", "route"); !strings.Contains(out, "10.99.0.0/16 via 10.68.0.2") {
		t.Errorf("the route removed in a is not back:\n%s", out)
	}
	if r := netlab(t, "status", l.name); strings.Contains(r.stdout, "on the host") {
		t.Errorf("status still sees drift after up:\n%s", r.stdout)
	}
}

// pingsWithin pings addr from node until it answers or d has passed.
func (l *lab) pingsWithin(node, addr string, d time.Duration) bool {
	for start := time.Now(); time.Since(start) < d; {
		if _, code := l.exec(node, "ping", "-c", "1", "-W", "1", addr); code == 0 {
			return true
		}
	}
	return false
}
