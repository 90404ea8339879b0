package tests

import (
	"encoding/json"
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
// for up to d, and returns the last report.
func (l *lab) matrixUntil(d time.Duration, what string, cond func(m matrixReport) bool) matrixReport {
	l.t.Helper()
	var m matrixReport
	var r result
	for deadline := time.Now().Add(d); ; {
		r = netlab(l.t, "matrix", "--json", l.name)
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
