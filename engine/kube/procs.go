package kube

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Finding a container's first process read the cgroup file of every
// process of this machine, once for each pod started, each /etc/hosts
// written and each node's status: a star of 100 on the test cluster has
// over a thousand processes (every pod's sandbox, init and shim, the
// cluster's daemons), and those reads were half of netlab's CPU in its up.
// So the processes' cgroups are kept as read (a process stays in its
// container's cgroup), a container's first process is kept once found,
// and only processes not seen before are read; a search that finds
// nothing so reads every process again, in case a pid was used again or
// a process moved (runc's init joins its container's cgroup after it
// starts).

// procs is this machine's processes as read.
var procs = procTable{cgroups: map[int]string{}, first: map[string]int{}}

type procTable struct {
	mu      sync.Mutex
	cgroups map[int]string // by pid: its /proc/PID/cgroup
	first   map[string]int // by container id: its first process, as found
}

// containerPid finds the first process (PID 1 in its namespace) of the
// container with that CRI id among this machine's processes, by the
// cgroup the runtime made for it ("containerd://ID" in the pod's status).
// It finds it only when the pod runs on a host whose kernel is this
// machine's: a single-host cluster, or the test cluster's simulated hosts.
// 0 is not found.
func containerPid(criID string) (int, error) {
	_, id, ok := strings.Cut(criID, "://")
	if !ok || len(id) < 12 {
		return 0, fmt.Errorf("container id %q: want runtime://id", criID)
	}
	t := &procs
	t.mu.Lock()
	defer t.mu.Unlock()
	if pid, ok := t.first[id]; ok {
		if IsContainerPid(pid, criID) {
			return pid, nil
		}
		delete(t.first, id)
	}
	for _, all := range []bool{false, true} {
		pid, err := t.search(id, all)
		if err != nil || pid != 0 {
			return pid, err
		}
	}
	return 0, nil
}

// search looks for the container's first process among the processes
// that run, reading the cgroup of those not read before (all: of every
// one). t.mu is held.
func (t *procTable) search(id string, all bool) (int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return 0, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	pids := make([]int, 0, len(names))
	running := make(map[int]bool, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil {
			pids = append(pids, pid)
			running[pid] = true
		}
	}
	for pid := range t.cgroups {
		if !running[pid] {
			delete(t.cgroups, pid)
		}
	}
	for c, pid := range t.first {
		if !running[pid] {
			delete(t.first, c)
		}
	}
	for _, pid := range pids {
		cg, ok := t.cgroups[pid]
		if !ok || all {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
			if err != nil {
				delete(t.cgroups, pid)
				continue // ended meanwhile
			}
			cg = string(b)
			t.cgroups[pid] = cg
		}
		if !strings.Contains(cg, id) {
			continue
		}
		if got, ok := firstOf(fmt.Sprintf("/proc/%d", pid), id); ok && got == pid {
			t.first[id] = pid
			return pid, nil
		}
	}
	return 0, nil
}
