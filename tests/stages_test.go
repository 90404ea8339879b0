package tests

import (
	"strings"
	"testing"
)

// netlab reset takes away what a student added by hand (routes, an
// address) and puts the lab at the start of a stage: stage 2's checks fail
// again after reset --stage 2, and pass after reset --stage 3, whose setup
// is stage 2 solved.
func TestStagesReset(t *testing.T) {
	parallel(t)
	l := upBundled(t, "static")
	stage := func(s string, want int) {
		t.Helper()
		if r := netlab(t, "check", "--stage", s, l.file); r.code != want {
			t.Errorf("stage %s: exit %d, want %d\n%s%s", s, r.code, want, r.stdout, r.stderr)
		}
	}
	must := func(node string, cmd ...string) {
		t.Helper()
		if out, code := l.exec(node, cmd...); code != 0 {
			t.Fatalf("%s: %v: exit %d: %s", node, cmd, code, out)
		}
	}
	must("r1", "ip", "route", "add", "10.0.3.0/24", "via", "10.1.12.2")
	must("r2", "ip", "route", "add", "10.0.3.0/24", "via", "10.1.23.2")
	must("r1", "ip", "addr", "add", "10.0.1.99/24", "dev", "eth0")
	stage("2", 0)

	r := netlab(t, "reset", l.name, "--stage", "2")
	if r.code != 0 {
		t.Fatalf("netlab reset --stage 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"r1: removed route 10.0.3.0/24 via 10.1.12.2 dev eth1",
		"r2: removed route 10.0.3.0/24 via 10.1.23.2 dev eth1",
		"10.0.1.99/24", // removed by up's convergence ("removed address r1:eth0 …") or by reset itself
		"is at the start of stage 2",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("reset output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "removed route default") || strings.Contains(r.stdout, "proto kernel") {
		t.Errorf("reset removed what the file gives:\n%s", r.stdout)
	}
	if out, _ := l.exec("r1", "ip", "addr", "show", "eth0"); strings.Contains(out, "10.0.1.99") {
		t.Errorf("r1 keeps the address a student added:\n%s", out)
	}
	if out, _ := l.exec("r1", "ip", "route"); strings.Contains(out, "10.0.3.0/24") {
		t.Errorf("r1 still routes to lan3:\n%s", out)
	}
	if out, _ := l.exec("h1", "ip", "route"); !strings.Contains(out, "default via 10.0.1.1") {
		t.Errorf("h1 lost its gateway:\n%s", out)
	}
	stage("1", 0)
	stage("2", 1)

	// A second reset finds nothing to remove.
	if r := netlab(t, "reset", l.file); r.code != 0 || !strings.Contains(r.stdout, "nothing added by hand") {
		t.Errorf("second reset: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Stage 3 starts with stage 2 solved.
	if r := netlab(t, "reset", "--stage", "3", l.name); r.code != 0 {
		t.Fatalf("netlab reset --stage 3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	stage("2", 0)
	stage("3", 1)

	if r := netlab(t, "reset", "--stage", "9", l.name); r.code != 2 || !strings.Contains(r.stderr, `no stage "9" (stages: 1, 2, 3)`) {
		t.Errorf("reset to an unknown stage: exit %d\n%s", r.code, r.stderr)
	}
}
