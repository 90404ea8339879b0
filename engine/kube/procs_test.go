package kube

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/engine"
)

// TestContainerPid: a container's first process is found by its cgroup,
// kept once found, and found again when its pid is another process's.
// A process in a pid namespace of its own, in this test's cgroup, stands
// for the container (root: a new pid namespace).
func TestContainerPid(t *testing.T) {
	id, start := standIn(t)
	first := start()
	for i := 0; i < 2; i++ {
		pid, err := containerPid("containerd://" + id)
		if err != nil || pid != first.Process.Pid {
			t.Fatalf("search %d: pid %d, %v; want %d", i, pid, err, first.Process.Pid)
		}
	}
	first.Process.Kill()
	first.Wait()
	if pid, err := containerPid("containerd://" + id); err != nil || pid != 0 {
		t.Fatalf("after its end: pid %d, %v; want 0", pid, err)
	}
	second := start()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pid, err := containerPid("containerd://" + id)
		if err == nil && pid == second.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new first process: pid %d, %v; want %d", pid, err, second.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// standIn is a container's id and the start of its first process: a
// process in a pid namespace of its own, in this test's cgroup, whose
// longest path stands for the id (root: a new pid namespace).
func standIn(t *testing.T) (string, func() *exec.Cmd) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a pid namespace)")
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, line := range strings.Split(string(cg), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && len(f[2]) > len(id) {
			id = f[2]
		}
	}
	if len(id) < 12 {
		t.Skipf("this test's cgroup %q is too short to stand for a container id", id)
	}
	return id, func() *exec.Cmd {
		cmd := exec.Command("sleep", "60")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
		if err := cmd.Start(); err != nil {
			t.Skipf("a pid namespace: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
}

// TestStartedNode: Inspect answers from what Start found while that
// process is still the container's first one, and forgets it after.
func TestStartedNode(t *testing.T) {
	id, start := standIn(t)
	cmd := start()
	r := &Runtime{}
	want := engine.Node{ID: "w_a", Pid: cmd.Process.Pid, NetNS: "net:[1]"}
	r.remember("w_a", "containerd://"+id, want)
	if n, ok := r.startedNode("w_a"); !ok || n != want {
		t.Fatalf("while it runs: %+v, %v; want %+v", n, ok, want)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n, ok := r.startedNode("w_a"); ok {
		t.Fatalf("after its end: %+v; want none", n)
	}
	if _, kept := r.started["w_a"]; kept {
		t.Error("after its end: still kept")
	}
}
