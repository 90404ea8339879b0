package tests

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestRestoreAfterReboot: a runc lab comes back wired after what a reboot
// does to it (its nodes killed; its run directory, runc's state, its host
// bridges and its watcher gone) with netlab restore, from the record its
// up left on disk; once down, it is no longer restored.
func TestRestoreAfterReboot(t *testing.T) {
	parallel(t)
	name := labName(t)
	l := &lab{t: t, name: name, runtime: "runc"}
	l.file = writeLab(t, name, `runtime: runc
defaults: {image: netlab/tiny, command: exec sleep 600}
networks:
  lan: {}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.9.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.9.0.2/24}}}
`)
	t.Cleanup(l.down)
	if r := netlabRaw(t, "up", l.file); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.9.0.2")
	record := "/var/lib/netlab/up/" + name + ".json"
	if _, err := os.Stat(record); err != nil {
		t.Fatalf("up left no record for restore: %v", err)
	}

	reboot(t, l)
	if l.ping("a", "10.9.0.2") {
		t.Fatal("the lab still works after the reboot: the simulation missed something")
	}
	if r := netlabRaw(t, "restore", name); r.code != 0 {
		t.Fatalf("netlab restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.9.0.2")
	l.mustPing("b", "10.9.0.1")
	if !l.watched() {
		t.Error("the restored lab has no watcher")
	}

	if r := netlabRaw(t, "down", "--keep-cache", name); r.code != 0 {
		t.Fatalf("netlab down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(record); err == nil {
		t.Errorf("down left the record %s", record)
	}
	if r := netlabRaw(t, "restore", name); r.code != 1 || !strings.Contains(r.stderr, "not recorded as up") {
		t.Errorf("netlab restore of a lab brought down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left := leftovers(name); left != "" {
		t.Errorf("restore of a lab brought down made: %s", left)
	}
}

// reboot does to a runc lab what a reboot of the host does: its watcher
// and nodes end, and what lived in /run (its run directory with the
// nodes' bundles, runc's state, its lock) and in the kernel (its host
// bridges and veths) is gone. What is on disk stays.
func reboot(t *testing.T, l *lab) {
	t.Helper()
	l.stopWatcher()
	for _, node := range []string{"a", "b"} {
		l.kill(node)
	}
	dir := "/run/netlab/" + l.name
	for _, m := range mountsUnder(t, dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Fatalf("unmount %s: %v", m, err)
		}
	}
	states, _ := filepath.Glob(filepath.Join(runcRoot, l.name+"_*"))
	for _, p := range append(states, dir, "/run/netlab/."+l.name+".lock") {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range links {
		if strings.HasPrefix(link.Attrs().Alias, "netlab:"+l.name+":") {
			// A node's port may go meanwhile, with its killed node's namespace.
			if err := netlink.LinkDel(link); err != nil && !errors.Is(err, syscall.ENODEV) {
				t.Fatalf("delete %s: %v", link.Attrs().Name, err)
			}
		}
	}
}

// mountsUnder lists the mount points at or under dir, deepest first.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
