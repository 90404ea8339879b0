package tests

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/naming"
)

// TestGeneratedInternet: netlab new internet writes a class-wide Internet
// of 4 ASes and an IXP, which comes up, converges (iBGP, eBGP between
// peers, the IXP's route server) and passes its own checks, a matrix check
// added: every pair reachable on a valley-free path; the looking glass
// shows the routes; a transit AS that leaks its providers' routes to each
// other shows as ! (against policy), and a pulled cable to a stub as ✗.
// Then, the cable back, the IXP's switch deleted and a router killed come
// back by themselves (the watcher), and the Internet converges again.
// One lab for all of it: an Internet is the suite's costliest lab to start.
func TestGeneratedInternet(t *testing.T) {
	parallel(t)
	if runtime == "kubernetes" { // on the test cluster: its images there
		needKubeRuntime(t, "netlab/router", "netlab/host")
	}
	r := netlabRaw(t, "new", "internet", "--ases", "4", "--ixps", "1", "--name", "x")
	if r.code != 0 {
		t.Fatalf("netlab new internet: exit %d\n%s", r.code, r.stderr)
	}
	body := strings.Replace(r.stdout, "\nname: x\n", "\n", 1)
	if body == r.stdout {
		t.Fatalf("no name line in the generated lab:\n%s", r.stdout)
	}
	if !strings.HasSuffix(body, "\n") || !strings.Contains(body, "\nchecks:\n") {
		t.Fatalf("the generated lab ends with no checks: list:\n%s", body)
	}
	body += "  - {matrix: {}}\n"
	l := upWith(t, body, nil)
	// The tier-1 router has its peers: its iBGP neighbour, another AS, the
	// IXP's route server, every session established with prefixes.
	established := `(?m)^180\.80\.0\.80\s.*\d\d:\d\d:\d\d\s+\d+\s`
	l.waitOutput("as1-zuri", 90*time.Second, established, "vtysh", "-c", "show bgp summary")

	m := l.matrixUntil(4*time.Minute, "every pair reachable and valid", true, func(m matrixReport) bool { return m.Good })
	if len(m.Pairs) != 12 {
		t.Fatalf("%d pairs, want 12 (4 ASes; the route server's group has no host)", len(m.Pairs))
	}
	for _, p := range m.Pairs {
		if len(p.ASPath) == 0 || p.ASPath[len(p.ASPath)-1] == 0 {
			t.Errorf("pair %s->%s: AS path %v", p.From, p.To, p.ASPath)
		}
	}
	l.passChecks()

	// The looking glass: the stub's router has AS 1's prefix.
	r = netlab(t, "lg", "--json", l.name, "as4-zuri")
	if r.code != 0 || !strings.Contains(r.stdout, `"prefix": "1.0.0.0/8"`) || !strings.Contains(r.stdout, `"protocol": "bgp"`) {
		t.Fatalf("netlab lg: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = netlab(t, "lg", l.name, "as4-zuri", "2.101.0.1")
	if r.code != 0 || !strings.Contains(r.stdout, "2.0.0.0/8") || !strings.Contains(r.stdout, "3 2") {
		t.Fatalf("netlab lg ... 2.101.0.1: exit %d, want the path 3 2 to 2.0.0.0/8\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = netlab(t, "lg", l.name, "as4-zuri", "1.0.0.0/8;reboot"); r.code != 2 {
		t.Errorf("netlab lg with a bad prefix: exit %d, want 2\n%s", r.code, r.stderr)
	}

	// AS 3 sends every route to its providers: AS 2 prefers its customer's
	// route to AS 1 over its peer's, a valley.
	for _, router := range []string{"as3-zuri", "as3-base"} {
		if out, code := l.exec(router, "vtysh", "-c", "conf t", "-c", "route-map TO_PEER_OR_PROVIDER permit 20", "-c", "end", "-c", "clear bgp * soft out"); code != 0 {
			t.Fatalf("leak on %s: exit %d\n%s", router, code, out)
		}
	}
	m = l.matrixUntil(time.Minute, "2->1 against policy", false, func(m matrixReport) bool {
		reach, verdict := m.pair("2", "1")
		return reach && verdict == "invalid"
	})
	r = netlab(t, "matrix", l.name)
	if r.code != 1 || !strings.Contains(r.stdout, "! 2 -> 1") || !strings.Contains(r.stdout, "valley") {
		t.Errorf("netlab matrix after the leak: exit %d, want 1 and ! 2 -> 1, a valley\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The leak undone, and the stub's link to its provider pulled: AS 2 is
	// out of its reach (AS 3 gives the IXP only its own and its customers'
	// routes again).
	for _, router := range []string{"as3-zuri", "as3-base"} {
		if out, code := l.exec(router, "vtysh", "-c", "conf t", "-c", "no route-map TO_PEER_OR_PROVIDER permit 20", "-c", "end", "-c", "clear bgp * soft out"); code != 0 {
			t.Fatalf("undo the leak on %s: exit %d\n%s", router, code, out)
		}
	}
	if r = netlab(t, "link", l.name, "as4-zuri:ext_3_ZURI", "down"); r.code != 0 {
		t.Fatalf("netlab link down: exit %d\n%s", r.code, r.stderr)
	}
	l.matrixUntil(time.Minute, "4->2 unreachable", false, func(m matrixReport) bool {
		reach, _ := m.pair("4", "2")
		return !reach
	})
	r = netlab(t, "check", "--json", l.file)
	var report struct {
		Checks []struct {
			Probe  string `json:"probe"`
			Passed bool   `json:"passed"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || r.code != 1 {
		t.Fatalf("netlab check --json with 4->2 cut: exit %d (want 1), %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, c := range report.Checks {
		if c.Probe == "matrix" && (c.Passed || !strings.Contains(c.Detail, "✗ 4->2")) {
			t.Errorf("the matrix check with 4->2 cut: passed %v, detail %q; want failed, naming ✗ 4->2", c.Passed, c.Detail)
		}
	}
	if r = netlab(t, "link", l.name, "as4-zuri:ext_3_ZURI", "up"); r.code != 0 {
		t.Fatalf("netlab link up: exit %d\n%s", r.code, r.stderr)
	}
	l.matrixUntil(2*time.Minute, "every pair reachable and valid again", true, func(m matrixReport) bool { return m.Good })

	// Resilience: this machine's bridge deleted and a container restarted
	// by its engine. On a cluster the bridges are the hosts' and a node
	// is a pod (TestKubernetesStopStartWatcher restarts one).
	if runtime == "kubernetes" {
		l.passChecks()
		return
	}
	if out, err := exec.Command("ip", "link", "del", naming.Bridge(l.name, "ixp80")).CombinedOutput(); err != nil {
		t.Fatalf("delete the IXP's bridge: %v %s", err, out)
	}
	l.restart("as1-zuri")
	l.waitOutput("as1-zuri", 120*time.Second, established, "vtysh", "-c", "show bgp summary")
	l.matrixUntil(2*time.Minute, "every pair reachable and valid after the restart", true, func(m matrixReport) bool { return m.Good })
	l.passChecks()
}
