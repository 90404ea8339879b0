package runc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/rootfs"

	"golang.org/x/sys/unix"
)

// cgroupParent is the cgroup under which runc makes each node's: the
// nodes' CgroupsPath is /netlab/ID, in every hierarchy (cgroup v1: one per
// controller; v2: one).
const cgroupParent = "netlab"

// cgroupMounts lists where the host's cgroup hierarchies are mounted.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		_, after, ok := strings.Cut(sc.Text(), " - ")
		kind := strings.Fields(after)
		if !ok || len(fields) < 5 || len(kind) == 0 || (kind[0] != "cgroup" && kind[0] != "cgroup2") {
			continue
		}
		out = append(out, rootfs.UnescapeMount(fields[4]))
	}
	return out, sc.Err()
}

// removeCgroups removes the node's cgroup directories that runc left (it
// leaves them when its state went before a runc delete: a node it never
// finished making, a run directory removed), killing first whatever still
// runs in them; gone is done.
func removeCgroups(id string) error {
	mounts, err := cgroupMounts()
	if err != nil {
		return fmt.Errorf("cgroups of container %s: %w", id, err)
	}
	var errs []error
	for _, m := range mounts {
		dir := filepath.Join(m, cgroupParent, id)
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s of container %s: %w", dir, id, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroup removes a cgroup directory, its processes killed first.
func removeCgroup(dir string) error {
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == 100 {
			return err
		}
		procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, p := range strings.Fields(string(procs)) {
			if pid, err := strconv.Atoi(p); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// RemoveCgroupParents removes netlab's parent cgroup of the nodes from
// every hierarchy where no node's is left under it. The caller makes sure
// that no runc node is being made meanwhile (runc would make it again, or
// fail to make a node's beneath it). It returns how many it removed.
func RemoveCgroupParents() (int, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return 0, fmt.Errorf("cgroups: %w", err)
	}
	n := 0
	for _, m := range mounts {
		err := unix.Rmdir(filepath.Join(m, cgroupParent))
		switch {
		case err == nil:
			n++
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOTEMPTY):
			// none, or another node's is under it
		default:
			return n, fmt.Errorf("remove cgroup %s: %w", filepath.Join(m, cgroupParent), err)
		}
	}
	return n, nil
}
