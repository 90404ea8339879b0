package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// has fails the test unless out holds every one of wants.
func has(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestInterface(t *testing.T) {
	for _, c := range []struct {
		i    lab.IfaceState
		want string
	}{
		{lab.IfaceState{Name: "eth1", Up: true, Carrier: true, Addrs: []string{"10.0.0.1/24", "10.0.0.9/24"}, DHCP: []string{"10.0.0.9/24"}},
			"eth1 10.0.0.1/24 10.0.0.9/24 (dhcp)"},
		{lab.IfaceState{Name: "eth1", Missing: true, Addrs: []string{"10.0.0.1/24"}},
			"eth1 (missing: deleted in the node or on the host; netlab up remakes it)"},
		{lab.IfaceState{Name: "eth2", Addrs: []string{"10.0.0.1/24"}}, "eth2 10.0.0.1/24 (down)"},
		{lab.IfaceState{Name: "eth2", Up: true, HostSide: "down on the host side"},
			"eth2  (no carrier: the other end or the host side is down) (down on the host side: netlab up repairs it)"},
		{lab.IfaceState{Name: "eth3", Up: true, Carrier: true, Impair: "delay 100ms"}, "eth3  (impaired: delay 100ms)"},
	} {
		if got := Interface(c.i); got != c.want {
			t.Errorf("Interface(%+v) = %q, want %q", c.i, got, c.want)
		}
	}
}

func TestStatus(t *testing.T) {
	var b bytes.Buffer
	st := &lab.Status{Lab: "x", Nodes: []lab.NodeState{
		{Node: "a", State: "running", Ready: true, Gateways: []string{"10.0.0.254"}, Published: []string{"127.0.0.1:8080->80/tcp"}},
		{Node: "b", State: "running"},
	}}
	if err := Status(&b, st); err != nil {
		t.Fatal(err)
	}
	has(t, b.String(), "lab x\n", "watcher: not running", "running (not wired)", "10.0.0.254", "127.0.0.1:8080->80/tcp")
	b.Reset()
	st.WatcherPid, st.WatcherLog = 42, "/run/netlab/x/watch.log"
	if err := Status(&b, st); err != nil {
		t.Fatal(err)
	}
	has(t, b.String(), "watcher: running (pid 42), rewires restarted nodes; log /run/netlab/x/watch.log")
}

func TestChanges(t *testing.T) {
	var b bytes.Buffer
	if err := Changes(&b, &lab.UpResult{Lab: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "lab x matches its file: up would change nothing\n" {
		t.Errorf("no changes: %q", got)
	}
	b.Reset()
	res := &lab.UpResult{Lab: "x", Changes: []converge.Change{{Action: "create", Object: converge.ObjNode, Node: "a", Name: "x_a", Detail: "image netlab/tiny"}}}
	if err := Changes(&b, res); err != nil {
		t.Fatal(err)
	}
	has(t, b.String(), "lab x: netlab up would\n", "create", "x_a", "image netlab/tiny")
}

func TestUpAndDown(t *testing.T) {
	var b bytes.Buffer
	Up(&b, &lab.UpResult{Lab: "x", Unchanged: 7, Took: time.Second})
	Up(&b, &lab.UpResult{Lab: "x", Changed: 3, Unchanged: 4, Took: 2 * time.Second})
	Down(&b, "x", lab.DownResult{})
	Down(&b, "x", lab.DownResult{Removed: provider.Removed{Containers: 2, Interfaces: 1, ImageRoots: 1}, Took: time.Second})
	want := "lab x is up to date (7 steps checked in 1s)\n" +
		"lab x is up: 3 steps done, 4 already in place, in 2s\n" +
		"lab x: nothing to remove\n" +
		"lab x removed: 2 containers, 1 host interface, 0 firewall rules, 1 unpacked image (down --keep-cache keeps them) in 1s\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestImpaired(t *testing.T) {
	var b bytes.Buffer
	l := &spec.Link{Endpoints: [2]spec.Endpoint{{Node: "a", Interface: "eth1"}, {Node: "b", Interface: "eth1"}}}
	Impaired(&b, l)
	l.Delay, l.Loss, l.Impair.Delay = "100ms", "5%", 100*time.Millisecond
	Impaired(&b, l)
	want := "a:eth1 <-> b:eth1: a plain link again\n" +
		"a:eth1 <-> b:eth1: delay 100ms, loss 5% (each way, through netlab's relay)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestBytesAndWrap(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 912 << 20: "912.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Wrap("one two three four", 9); got != "one two\nthree\nfour" {
		t.Errorf("Wrap: %q", got)
	}
	if got := Wrap("", 9); got != "" {
		t.Errorf("Wrap of nothing: %q", got)
	}
}

func TestPruneAndRestore(t *testing.T) {
	var out, errs bytes.Buffer
	res := &lab.PruneResult{DryRun: true, Removed: []lab.Pruned{{Kind: "image root", Dir: "/var/lib/netlab/rootfs/ab", Bytes: 2048}},
		Freed: 2048, Skipped: []string{"init copies: an up is under way"}}
	if err := Prune(&out, &errs, res); err != nil {
		t.Fatal(err)
	}
	has(t, out.String(), "/var/lib/netlab/rootfs/ab", "2.0 KiB", "would free 2.0 KiB (1 directories)\n")
	if errs.String() != "not looked at: init copies: an up is under way\n" {
		t.Errorf("stderr: %q", errs.String())
	}
	out.Reset()
	errs.Reset()
	Restore(&out, &errs, []lab.Restored{{Lab: "a", File: "/l/a.yaml", Result: &lab.UpResult{Changed: 5, Unchanged: 1, Took: time.Second}}, {Lab: "b", Error: "no file"}})
	if out.String() != "lab a restored from /l/a.yaml: 5 steps changed, 1 unchanged in 1s\n" || errs.String() != "lab b: not restored: no file\n" {
		t.Errorf("restore: stdout %q, stderr %q", out.String(), errs.String())
	}
}

func TestProgressWithoutATerminal(t *testing.T) {
	var out, errs bytes.Buffer
	p := NewProgress(&out, &errs)
	p.Event(lab.Event{Kind: lab.EventNote, Message: "pruned 1 table"})
	p.Event(lab.Event{Kind: lab.EventWarning, Message: "node a: no netem"})
	p.Event(lab.Event{Kind: lab.EventStep, StepID: "node/a", Outcome: apply.Changed, N: 1, Total: 3, Took: 1500 * time.Microsecond})
	p.Event(lab.Event{Kind: lab.EventStep, StepID: "node/b", Outcome: apply.Unchanged, N: 2, Total: 3})
	p.Event(lab.Event{Kind: lab.EventStep, StepID: "link/a-b", Outcome: apply.Skipped, N: 3, Total: 3})
	p.Event(lab.Event{Kind: lab.EventStep, StepID: "link/a-c", Outcome: apply.Failed, N: 3, Total: 3, Err: errors.New("no such node")})
	p.Finish()
	if out.String() != "pruned 1 table\n" {
		t.Errorf("stdout: %q", out.String())
	}
	want := "node a: no netem\n[1/3] done node/a (2ms)\n[2/3] ok   node/b (0s)\n[3/3] FAILED link/a-c: no such node\n"
	if errs.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", errs.String(), want)
	}
}

func TestTrustedLinkAndStage(t *testing.T) {
	var b bytes.Buffer
	Trusted(&b, "a.yaml", nil, "")
	Trusted(&b, "b.yaml", []trust.Request{{Path: "nodes.h1.volumes[0]", File: "b.yaml", Line: 3, Col: 5, Text: "mounts /etc"}}, "0123456789abcdef")
	Link(&b, "a", "eth1", false, lab.LinkResult{Where: "host side", Changed: true})
	Link(&b, "a", "eth1", true, lab.LinkResult{Where: "in the node"})
	l := &spec.Lab{Name: "x", Stages: []*spec.Stage{{Name: "1", Title: "addresses"}, {Name: "2"}}}
	Stage(&b, l, "1")
	Stage(&b, l, "2")
	out := b.String()
	has(t, out, "a.yaml asks nothing of the host beyond its nodes: netlab up needs no allowance for it\n",
		"trusted b.yaml (sha256 0123456789ab) with what it asks of the host:\n  b.yaml:3:5",
		"a:eth1 down (host side)\n", "a:eth1 is up already (in the node)\n",
		"lab x is at the start of stage 1: addresses; netlab check x --stage 1\n",
		"lab x is at the start of stage 2; netlab check x --stage 2\n")
}
