package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cgroupFile reads a file of a process's cgroup, from the host: the
// controller's hierarchy on cgroup v1 ("pids", "memory", "cpu"), the one
// hierarchy on v2 (controller "").
func cgroupFile(t *testing.T, pid, controller, file string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatalf("cgroups of process %s: %v", pid, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		dir := ""
		switch {
		case parts[0] == "0" && parts[1] == "" && onV2():
			dir = filepath.Join("/sys/fs/cgroup", parts[2])
		case controller != "" && hasController(parts[1], controller):
			dir = filepath.Join("/sys/fs/cgroup", parts[1], parts[2])
		default:
			continue
		}
		out, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("read %s: %v", filepath.Join(dir, file), err)
		}
		return strings.TrimSpace(string(out))
	}
	t.Fatalf("process %s has no %s cgroup:\n%s", pid, controller, data)
	return ""
}

func hasController(list, c string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == c {
			return true
		}
	}
	return false
}

func onV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// TestNodeResources: a node's resources reach its cgroups (the defaults'
// keys where the node gives none), a fork bomb stops at its pids limit and
// a process asking for more than its memory is killed, while a node with
// no limits of its own takes the lab's defaults.
func TestNodeResources(t *testing.T) {
	parallel(t)
	l := up(t, `defaults:
  image: netlab/tiny
  command: exec sleep 600
  resources: {cpus: 0.5, memory: 256MiB, pids: 200}
nodes:
  a:
    resources: {memory: 48MiB, pids: 24}
  b: {}
`)
	pidA, pidB := l.pid("a"), l.pid("b")
	v2 := onV2()
	want := []struct{ node, pid, controller, file, value string }{
		{"a", pidA, "pids", "pids.max", "24"},
		{"b", pidB, "pids", "pids.max", "200"},
	}
	if v2 {
		want = append(want,
			struct{ node, pid, controller, file, value string }{"a", pidA, "", "memory.max", "50331648"},
			struct{ node, pid, controller, file, value string }{"a", pidA, "", "memory.swap.max", "0"},
			struct{ node, pid, controller, file, value string }{"a", pidA, "", "cpu.max", "50000 100000"},
			struct{ node, pid, controller, file, value string }{"b", pidB, "", "memory.max", "268435456"})
	} else {
		want = append(want,
			struct{ node, pid, controller, file, value string }{"a", pidA, "memory", "memory.limit_in_bytes", "50331648"},
			struct{ node, pid, controller, file, value string }{"a", pidA, "cpu", "cpu.cfs_quota_us", "50000"},
			struct{ node, pid, controller, file, value string }{"a", pidA, "cpu", "cpu.cfs_period_us", "100000"},
			struct{ node, pid, controller, file, value string }{"b", pidB, "memory", "memory.limit_in_bytes", "268435456"},
			struct{ node, pid, controller, file, value string }{"b", pidB, "cpu", "cpu.cfs_quota_us", "50000"})
		if _, err := os.Stat(memswPath); err == nil {
			want = append(want, struct{ node, pid, controller, file, value string }{"a", pidA, "memory", "memory.memsw.limit_in_bytes", "50331648"})
		}
	}
	for _, w := range want {
		if got := cgroupFile(t, w.pid, w.controller, w.file); got != w.value {
			t.Errorf("node %s: %s is %q, want %q", w.node, w.file, got, w.value)
		}
	}

	// More memory than the node may have: dd's 96 MiB buffer is killed.
	if out, code := l.exec("a", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1"); code == 0 {
		t.Errorf("dd with a 96 MiB buffer ran in a node limited to 48 MiB:\n%s", out)
	}
	if out, code := l.exec("b", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1"); code != 0 {
		t.Errorf("dd with a 96 MiB buffer failed in a node limited to 256 MiB (exit %d):\n%s", code, out)
	}

	// A fork bomb, bounded, last (its orphans stay as zombies of the
	// node's sleep, which reaps none): 100 sleepers asked for, 24
	// processes allowed (the node's sleep, this exec's shell among them).
	out, code := l.exec("a", "sh", "-c", `i=0; while [ $i -lt 100 ]; do sleep 20 & i=$((i+1)); done; echo forked $i`)
	if code == 0 || strings.Contains(out, "forked 100") {
		t.Errorf("100 processes started in a node limited to 24 (exit %d):\n%s", code, out)
	}
	if !strings.Contains(out, "fork") {
		t.Errorf("the shell did not say it could not fork:\n%s", out)
	}
	if n, _ := strconv.Atoi(cgroupFile(t, pidA, "pids", "pids.current")); n > 24 || n < 2 {
		t.Errorf("node a runs %d processes after its fork bomb, want 2 to 24 (its limit); the bomb said:\n%s", n, out)
	}
	// The kernel counts the forks it refused at the limit (runc's exec,
	// a Go program, took some of the 24 for its threads while it joined).
	events := cgroupFile(t, pidA, "pids", "pids.events")
	if n, _ := strconv.Atoi(strings.TrimPrefix(events, "max ")); n == 0 {
		t.Errorf("node a's pids.events is %q: no fork was refused at its limit", events)
	}
}

const memswPath = "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"
