package tests

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/runtimes"
)

// ownBinary copies netlab and netlab-init into a directory of the test's,
// with bytes appended to netlab (ignored by the loader) so that its
// content, and with it its copy in /var/lib/netlab/init, is the test's
// alone.
func ownBinary(t *testing.T, tag string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"netlab", "netlab-init"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(netlabBin), name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "netlab" {
			data = append(data, []byte("\x00test "+t.Name()+" "+tag)...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "netlab")
}

func initOf(t *testing.T, container string) string {
	t.Helper()
	if onRunc() {
		lab, node, _ := strings.Cut(container, "_")
		data, err := os.ReadFile("/var/lib/netlab/labs/" + lab + "/" + node + "/config.json")
		var cfg struct{ Annotations map[string]string }
		if err != nil || json.Unmarshal(data, &cfg) != nil {
			t.Fatalf("config.json of %s: %v", container, err)
		}
		return cfg.Annotations["netlab.init"]
	}
	out, err := exec.Command("docker", "inspect", "-f", `{{index .Config.Labels "netlab.init"}}`, container).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", container, err)
	}
	return strings.TrimSpace(string(out))
}

// TestNodesDoNotDependOnTheBinary: nodes run a copy of netlab named by its
// content, so a lab outlives the binary that brought it up; a node whose
// copy was removed gets it back (running) or is made again (stopped); down
// removes copies no lab uses.
func TestNodesDoNotDependOnTheBinary(t *testing.T) {
	// Serial: down prunes the init copy no lab uses only when no up is
	// installing one, which another test's up would be.
	serial(t)
	name := labName(t)
	file := writeLab(t, name, `defaults: {image: netlab/tiny}
networks: {lan: {}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.74.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.74.0.2/24}}}
`)
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	first := ownBinary(t, "first")
	if r := runBin(t, first, "up", file); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	init := initOf(t, name+"_a")
	if !strings.HasPrefix(init, "/var/lib/netlab/init/netlab-") {
		t.Fatalf("a's init is %q, not a copy under /var/lib/netlab/init", init)
	}
	// The binary that brought the lab up goes; a restarted node comes back
	// (the watcher, which runs the copy too, rewires it).
	os.Remove(first)
	l.restart("b")
	if onRunc() { // no watcher: up rewires it
		if r := netlab(t, "up", file); r.code != 0 {
			t.Fatalf("up after b restarted: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	l.mustPing("a", "10.74.0.2")

	// The copy goes too: up puts back a running node's from the node.
	if err := os.Remove(init); err != nil {
		t.Fatal(err)
	}
	second := ownBinary(t, "second")
	r := runBin(t, second, "up", "--no-watch", file)
	if r.code != 0 || !strings.Contains(r.stdout, "put back the init binary of node a") {
		t.Fatalf("up after the init copy was removed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st, err := os.Stat(init); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("a's init not put back: %v", err)
	}
	// A stopped node whose copy is gone cannot start: up makes it again
	// with the copy of the binary that runs up.
	l.stopWatcher()
	l.stopNow("a")
	os.Remove(init)
	r = runBin(t, second, "up", "--no-watch", file)
	if r.code != 0 || !strings.Contains(r.stdout, "init is gone") {
		t.Fatalf("up of a stopped node whose init is gone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now := initOf(t, name+"_a"); now == init || !strings.HasPrefix(now, "/var/lib/netlab/init/") {
		t.Errorf("a was not made again with the new copy: %s", now)
	}
	l.mustPing("a", "10.74.0.2")
	secondCopy := initOf(t, name+"_a")
	if r := runBin(t, second, "down", name); r.code != 0 {
		t.Fatalf("down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The binary is this test's alone (ownBinary): no other lab runs its copy.
	if _, err := os.Stat(secondCopy); err == nil {
		t.Errorf("down left %s, which no container uses", secondCopy)
	}
}

// TestUpReportsANodeThatDiesAtStart: a command that ends at once makes up
// fail, naming the node, its exit status and its last lines.
func TestUpReportsANodeThatDiesAtStart(t *testing.T) {
	// Serial: up watches a node for 200 ms after it releases it, which a
	// host busy with other labs' ups can let pass before the node's
	// command even runs (seen at a load of 18).
	serial(t)
	name := labName(t)
	file := writeLab(t, name, `defaults: {image: netlab/tiny}
nodes:
  a: {command: "echo cannot find my config >&2; exit 3"}
  b: {}
`)
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	r := netlab(t, "up", "--no-watch", file)
	if r.code != 1 {
		t.Fatalf("up: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	died := "node a: its command ended right after it started, with exit code 3"
	if onRunc() {
		died = "node a: its command ended right after it started;" // runc keeps no exit code
	}
	for _, want := range []string{died, "  | cannot find my config", "1 node ended at start and stopped (a)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("up does not say %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "node b") {
		t.Errorf("up blames b too:\n%s", r.stderr)
	}
	if r := netlab(t, "status", name); !strings.Contains(r.stdout, "│ a    │ exited") {
		t.Errorf("a is not left stopped:\n%s", r.stdout)
	}
}

// TestConcurrentCommandsOnALab: two ups of one file at once, and an up
// started while a down holds the lab's lock, run one after the other:
// every command succeeds, the second says it waits, and the lab ends whole.
func TestConcurrentCommandsOnALab(t *testing.T) {
	parallel(t)
	name := labName(t)
	body := "defaults: {image: netlab/tiny}\nnetworks: {lan: {}}\nnodes:\n"
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		body += "  " + n + ": {interfaces: {eth0: {network: lan}}}\n"
	}
	body += "  h: {interfaces: {eth0: {network: lan, address: 10.75.0.200/24}}, publish: [\"127.0.0.1:24190:22\"]}\n"
	body = strings.Replace(body, "networks: {lan: {}}", "networks: {lan: {subnet: 10.75.0.0/24}}", 1)
	file := writeLab(t, name, body)
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })

	// both runs first, and second once startSecond says so (or first has
	// ended), the two at once.
	both := func(first, second []string, startSecond func() bool) [2]result {
		var out [2]result
		var wg sync.WaitGroup
		firstDone := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(firstDone)
			out[0] = netlab(t, first...)
		}()
	wait:
		for !startSecond() {
			select {
			case <-firstDone:
				break wait
			case <-time.After(20 * time.Millisecond):
			}
		}
		go func() {
			defer wg.Done()
			out[1] = netlab(t, second...)
		}()
		wg.Wait()
		return out
	}
	rs := both([]string{"up", file}, []string{"up", file}, func() bool { return true })
	for i, r := range rs {
		if r.code != 0 {
			t.Fatalf("concurrent up %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	if !strings.Contains(rs[0].stderr+rs[1].stderr, "is working on it; waiting") {
		t.Errorf("neither up said it waits:\n%s\n%s", rs[0].stderr, rs[1].stderr)
	}
	whole := func(when string) {
		if r := netlab(t, "diff", file); !strings.Contains(r.stdout, "would change nothing") {
			t.Errorf("%s: the lab differs from its file:\n%s%s", when, r.stdout, r.stderr)
		}
		if r := netlab(t, "status", name); strings.Contains(r.stdout, "not wired") || strings.Count(r.stdout, "│ running ") != 7 {
			t.Errorf("%s: status:\n%s", when, r.stdout)
		}
	}
	whole("after two ups at once")

	// --keep-cache: on runc, the unpacked image would go if no lab's node
	// ran on it, under another test's up that has it but not mounted yet.
	// The up starts once the down holds the lock (its holder written in
	// the lock file), not after a fixed time: on a busy machine, a down
	// can take longer than that to begin.
	downHolds := func() bool {
		holder, _ := os.ReadFile("/run/netlab/." + name + ".lock")
		return strings.HasPrefix(string(holder), "netlab down ")
	}
	// Whether the up then waits depends on how soon the down ends (a runc
	// down can end first): the lab must be whole either way.
	rs = both([]string{"down", "--keep-cache", name}, []string{"up", file}, downHolds)
	if rs[0].code != 0 || rs[1].code != 0 {
		t.Fatalf("down then up: exit %d and %d\n%s%s\n%s%s", rs[0].code, rs[1].code, rs[0].stdout, rs[0].stderr, rs[1].stdout, rs[1].stderr)
	}
	whole("after a down and an up started while it held the lock")
}

// TestKilledUpThenUpThenDown: an up killed (SIGKILL) half-way leaves a
// state the next up finishes, and down then leaves nothing.
func TestKilledUpThenUpThenDown(t *testing.T) {
	parallel(t)
	name := labName(t)
	body := "defaults: {image: netlab/tiny}\nnetworks: {lan: {subnet: 10.76.0.0/24}}\nnodes:\n"
	for i := 0; i < 12; i++ {
		extra := ""
		if i < 2 {
			extra = ", p0: {address: 10.77.0." + string(rune('1'+i)) + "/30}"
		}
		body += "  n" + string(rune('a'+i)) + ": {interfaces: {eth0: {network: lan}" + extra + "}}\n"
	}
	body += "links:\n  - endpoints: [na:p0, nb:p0]\n    delay: 5ms\n"
	file := writeLab(t, name, body)
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	for _, after := range []time.Duration{300 * time.Millisecond, 900 * time.Millisecond} {
		gate()
		cmd := exec.Command(netlabBin, withRuntime([]string{"up", "--parallel", "2", file})...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if r := netlab(t, "up", file); r.code != 0 {
			t.Fatalf("up after an up killed at %s: exit %d\n%s%s", after, r.code, r.stdout, r.stderr)
		}
		if r := netlab(t, "diff", file); !strings.Contains(r.stdout, "would change nothing") {
			t.Errorf("after an up killed at %s and another up, the lab differs:\n%s%s", after, r.stdout, r.stderr)
		}
		l.mustPing("na", "10.76.0.12")
		l.down()
	}
}

// TestDiedCountsOnlyLaterEnds: an up asks the runtime which of the nodes
// it released ended since it released each one. A node restarted while a
// repair's up wired its new instance must not count as dead by its old
// instance's end: up would stop a node that runs well.
func TestDiedCountsOnlyLaterEnds(t *testing.T) {
	parallel(t)
	l := upWith(t, "defaults: {image: netlab/tiny}\nnodes:\n  a: {}\n  b: {}\n", nil, "--no-watch")
	ctx := context.Background()
	h, err := runtimes.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	before := time.Now()
	l.restart("a")
	after := time.Now()
	died, err := h.Died(ctx, l.name, map[string]time.Time{"a": after, "b": before})
	if err != nil || len(died) != 0 {
		t.Errorf("Died after a's restart, a asked from after it: %v %v, want none", died, err)
	}
	died, err = h.Died(ctx, l.name, map[string]time.Time{"a": before})
	if _, ok := died["a"]; err != nil || ok == l.onRunc() {
		// Docker keeps the old instance's end; runc knows only that a runs.
		t.Errorf("Died, a asked from before its restart: %v %v (runc %v)", died, err, l.onRunc())
	}
	l.kill("a")
	died, err = h.Died(ctx, l.name, map[string]time.Time{"a": after})
	if _, ok := died["a"]; err != nil || !ok || len(died) != 1 {
		t.Errorf("Died after a was killed: %v %v, want a alone", died, err)
	}
}
