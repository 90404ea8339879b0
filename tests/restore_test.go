package tests

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/internal/nldump"
)

// TestRestoreAfterReboot: a runc lab comes back wired after what a reboot
// does to it (its nodes killed; its run directory, runc's state, its host
// bridges, firewall rules and watcher gone) with netlab restore, from the
// record its up left on disk, and its nodes keep the files they wrote;
// once down, it is no longer restored.
func TestRestoreAfterReboot(t *testing.T) {
	parallel(t)
	restoreAfterReboot(t, "runc")
}

// TestRestoreAfterRebootDocker: the same for a Docker lab, whose nodes
// Docker starts again at boot (its restart policy) in new namespaces,
// before netlab restore rewires them.
func TestRestoreAfterRebootDocker(t *testing.T) {
	parallel(t)
	restoreAfterReboot(t, "docker")
}

func restoreAfterReboot(t *testing.T, runtime string) {
	name := labName(t)
	l := &lab{t: t, name: name, runtime: runtime}
	l.file = writeLab(t, name, `runtime: `+runtime+`
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
	// What a node wrote stays, as a Docker container's file system does.
	if out, code := l.exec("a", "sh", "-c", "echo kept >/root/kept"); code != 0 {
		t.Fatalf("write a file in node a: exit %d %s", code, out)
	}

	reboot(t, l)
	if l.reaches("a", "10.9.0.2") {
		t.Fatal("the lab still works after the reboot: the simulation missed something")
	}
	// A prune before the restore keeps what the restore needs.
	if res := prune(t, "--dry-run"); len(res.Removed) > 0 {
		for _, p := range res.Removed {
			if strings.Contains(p.Dir, name) {
				t.Errorf("prune --dry-run after the reboot would remove %s (%s), which the restore needs", p.Dir, p.Kind)
			}
		}
	}
	if r := netlabRaw(t, "restore", name); r.code != 0 {
		t.Fatalf("netlab restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.9.0.2")
	l.mustPing("b", "10.9.0.1")
	if out, code := l.exec("a", "cat", "/root/kept"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("node a's file after the reboot: exit %d %q, want \"kept\"", code, out)
	}
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

// reboot does to a lab what a reboot of the host does: its watcher and
// nodes end, and what lived in /run (its run directory, runc's state,
// its lock) and in the kernel (its host bridges and veths, the host's
// FORWARD rules) is gone. What is on disk (the runc nodes' bundles in
// /var/lib/netlab/labs, Docker's containers) stays; Docker starts its
// nodes again.
func reboot(t *testing.T, l *lab) {
	t.Helper()
	l.stopWatcher()
	if l.onRunc() {
		for _, node := range []string{"a", "b"} {
			l.kill(node)
		}
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
	// The host's firewall rules go with a reboot too.
	for _, tool := range []string{"iptables", "ip6tables"} {
		out, _ := exec.Command(tool, "-w", "-S", "FORWARD").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "-A FORWARD ") || !strings.Contains(line, "netlab:"+l.name+":") {
				continue
			}
			args := append([]string{"-w", "-D"}, strings.Fields(strings.ReplaceAll(strings.TrimPrefix(line, "-A "), `"`, ""))...)
			if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
				t.Fatalf("%s %v: %v %s", tool, args, err, out)
			}
		}
	}
	links, err := nldump.Retry(netlink.LinkList) // a busy host interrupts dumps
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
	if l.onRunc() {
		return
	}
	// Docker starts its nodes again at boot, in new namespaces, with an
	// empty /run: their ready files are gone, and their init waits.
	for _, node := range []string{"a", "b"} {
		if out, err := exec.Command("docker", "restart", "-t", "0", l.container(node)).CombinedOutput(); err != nil {
			t.Fatalf("docker restart %s: %v %s", l.container(node), err, out)
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
