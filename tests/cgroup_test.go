package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nodeCgroups lists the cgroup directories of the lab's runc nodes, in
// every hierarchy.
func nodeCgroups(lab string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/netlab/" + lab + "_*")
	v2, _ := filepath.Glob("/sys/fs/cgroup/netlab/" + lab + "_*") // cgroup v2 alone
	return append(dirs, v2...)
}

// TestDownRemovesCgroups: down leaves no cgroup of a runc lab's nodes,
// also of a node whose runc state went while it ran (runc then never
// deletes it: its processes are killed and its cgroups removed) and of one
// killed before its state went. With no runc node left on the host, the
// parent cgroup netlab made goes too.
func TestDownRemovesCgroups(t *testing.T) {
	serial(t) // whether any runc node is left is the host's
	name := labName(t)
	l := &lab{t: t, name: name, runtime: "runc"}
	l.file = writeLab(t, name, "runtime: runc\nnodes:\n  a: {image: netlab/tiny, command: exec sleep 600}\n  b: {image: netlab/tiny, command: exec sleep 600}\n  c: {image: netlab/tiny, command: exec sleep 600}\n")
	t.Cleanup(l.down)
	if r := netlabRaw(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := len(nodeCgroups(name)); n < 3 {
		t.Fatalf("the lab's nodes have %d cgroup directories: %q", n, nodeCgroups(name))
	}
	pidA := l.pid("a")
	l.kill("b") // dead, its state then gone
	for _, node := range []string{"a", "b"} {
		if err := os.RemoveAll(filepath.Join(runcRoot, l.container(node))); err != nil {
			t.Fatal(err)
		}
	}
	if r := netlabRaw(t, "down", "--keep-cache", name); r.code != 0 {
		t.Fatalf("netlab down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left := nodeCgroups(name); len(left) > 0 {
		t.Errorf("down left cgroups: %s", strings.Join(left, " "))
	}
	if _, err := os.Stat("/proc/" + pidA); err == nil {
		stat, _ := os.ReadFile("/proc/" + pidA + "/stat")
		if !strings.Contains(string(stat), ") Z ") {
			t.Errorf("node a's process %s outlived down (its runc state was gone)", pidA)
		}
	}
	// The parents go with the last runc node, when no up is under way
	// (other people's tests may run ups all along: each down tries again).
	idle := 0 // downs with no runc node and no up before and after them
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && idle < 3; time.Sleep(500 * time.Millisecond) {
		before := !runcNodesOnHost() && !upUnderWay() && !otherNodeCgroups()
		netlabRaw(t, "down", name)
		if parents, _ := filepath.Glob("/sys/fs/cgroup/*/netlab"); len(parents) == 0 {
			return
		}
		if before && !runcNodesOnHost() && !upUnderWay() && !otherNodeCgroups() {
			idle++
		}
	}
	if idle < 3 {
		t.Log("other runc nodes, their cgroups or ups were on this host all along: the parent cgroups were not checked")
		return
	}
	parents, _ := filepath.Glob("/sys/fs/cgroup/*/netlab")
	t.Errorf("no runc node was left and no up under way, but netlab's parent cgroups are: %s", strings.Join(parents, " "))
}

// otherNodeCgroups tells whether a node's cgroup is under netlab's
// parents: another lab's, left where its runc state went first (the
// reboot test does that on purpose), keeps the parents.
func otherNodeCgroups() bool {
	children, _ := filepath.Glob("/sys/fs/cgroup/*/netlab/*_*")
	for _, c := range children {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func runcNodesOnHost() bool {
	nodes, _ := filepath.Glob("/var/lib/netlab/labs/*/*/config.json")
	return len(nodes) > 0
}

// upUnderWay tells whether an up holds the directory of netlab's copies.
func upUnderWay() bool {
	f, err := os.Open("/var/lib/netlab/init/.lock")
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
