package tests

import (
	"encoding/json"
	"os"
	"strings"
	"time"
)

// matrixReport is netlab matrix --json.
type matrixReport struct {
	Pairs []struct {
		From      string `json:"from"`
		To        string `json:"to"`
		Reachable bool   `json:"reachable"`
		Verdict   string `json:"verdict"`
		ASPath    []int  `json:"as_path"`
		Detail    string `json:"detail"`
	} `json:"pairs"`
	Good bool `json:"good"`
}

// matrixUntil runs netlab matrix --json until cond holds of its report,
// for up to d, and returns the last report. With wait, each run first
// waits (--wait) until every pair answers, reading no router meanwhile.
func (l *lab) matrixUntil(d time.Duration, what string, wait bool, cond func(m matrixReport) bool) matrixReport {
	l.t.Helper()
	var m matrixReport
	var r result
	for deadline := time.Now().Add(d); ; {
		args := []string{"matrix", "--json", l.name}
		// At most 100 s a call: the harness ends a command at two
		// minutes, which would lose the matrix's report.
		if left := min(time.Until(deadline), 100*time.Second).Round(time.Second); wait && left > 0 {
			args = append(args, "--wait", left.String())
		}
		r = netlab(l.t, args...)
		m = matrixReport{}
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			l.t.Fatalf("netlab matrix --json: exit %d, not JSON: %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if (r.code == 0) != m.Good {
			l.t.Fatalf("netlab matrix --json: exit %d with good %v", r.code, m.Good)
		}
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			l.routersState(m)
			l.t.Fatalf("the matrix did not show %s within %s; last:\n%s", what, d, r.stdout)
		}
		// A matrix is an exec per pair: polled back to back, it takes
		// a core from the routers converging.
		time.Sleep(2 * time.Second)
	}
}

// pair is the matrix's pair from one AS to another.
func (m matrixReport) pair(from, to string) (reachable bool, verdict string) {
	for _, p := range m.Pairs {
		if p.From == from && p.To == to {
			return p.Reachable, p.Verdict
		}
	}
	return false, "missing"
}

// routersState logs what a failed matrix needs to be understood: the
// routers of the ASes whose pairs failed (their links, addresses and BGP
// sessions) and the watcher's log.
func (l *lab) routersState(m matrixReport) {
	l.t.Helper()
	failed := map[string]bool{}
	for _, p := range m.Pairs {
		if !p.Reachable || p.Verdict != "valid" {
			failed[p.From], failed[p.To] = true, true
		}
	}
	// status --json is the lab's nodes under the lab's name.
	r := netlab(l.t, "status", "--json", l.name)
	var st map[string][]struct {
		Name  string `json:"node"`
		State string `json:"state"`
		Ready bool   `json:"ready"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		l.t.Logf("netlab status --json: exit %d, not JSON: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, n := range st[l.name] {
		as, _, ok := strings.Cut(strings.TrimPrefix(n.Name, "as"), "-")
		if !ok || !failed[as] || strings.HasSuffix(n.Name, "-host") {
			continue
		}
		links, _ := l.exec(n.Name, "ip", "-br", "addr")
		routes, _ := l.exec(n.Name, "ip", "route")
		bgp, _ := l.exec(n.Name, "vtysh", "-c", "show bgp summary", "-c", "show ip ospf neighbor")
		l.t.Logf("%s (%s, ready %v):\n%s\n%s\n%s", n.Name, n.State, n.Ready, links, routes, bgp)
	}
	if log, err := os.ReadFile("/run/netlab/" + l.name + "/watch.log"); err == nil {
		l.t.Logf("the watcher's log:\n%s", log)
	}
}
