package tests

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNodesKeepTheHostOut runs, from inside a node with default settings
// (the engine's capabilities plus NET_ADMIN and NET_RAW), the usual ways
// out of a container, and wants each to fail: mounting, loading a kernel
// module, writing kernel settings outside the node's network, the magic
// SysRq key, raw access to the host's disk, and seeing the host's
// interfaces. On the runtime the tests run on.
func TestNodesKeepTheHostOut(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.77.0.0/24}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.77.0.1/24}}}
`)
	var st syscall.Stat_t
	if err := syscall.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	disk := fmt.Sprintf("mknod /tmp/disk b %d %d && head -c 512 /tmp/disk | wc -c | grep -qx 512",
		unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)))
	escapes := map[string]string{
		"mount a tmpfs":             "mount -t tmpfs x /mnt",
		"mount proc again":          "mount -t proc proc /mnt",
		"load a kernel module":      "echo not-a-module > /tmp/m.ko && insmod /tmp/m.ko",
		"write a vm sysctl":         "echo 1 > /proc/sys/vm/drop_caches",
		"write a kernel sysctl":     "echo 1 > /proc/sys/kernel/sysrq",
		"press the magic SysRq key": "echo h > /proc/sysrq-trigger",
		"read the host's disk":      disk,
	}
	for what, cmd := range escapes {
		if out, code := l.exec("a", "sh", "-c", cmd); code == 0 {
			t.Errorf("a node can %s (%s): %s", what, cmd, out)
		}
	}
	// Whatever an escape's error says (the kernel may have no modules at
	// all), the powers it needs are not in the node's bounding set.
	out, code := l.exec("a", "sh", "-c", "grep CapBnd /proc/self/status")
	fields := strings.Fields(out)
	bnd, err := strconv.ParseUint(fields[len(fields)-1], 16, 64)
	if code != 0 || err != nil {
		t.Fatalf("read the node's bounding set: %q (exit %d): %v", out, code, err)
	}
	for name, bit := range map[string]uint{"SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_PTRACE": 19, "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_RESOURCE": 24, "SYS_TIME": 25} {
		if bnd&(1<<bit) != 0 {
			t.Errorf("a node has CAP_%s (bounding set %x)", name, bnd)
		}
	}
	// The node's own network settings are its to change.
	if out, code := l.exec("a", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); code != 0 {
		t.Errorf("a node cannot set its own ip_forward: %s", out)
	}
	// It sees its own interfaces, none of the host's.
	out, code = l.exec("a", "sh", "-c", "ls /sys/class/net")
	if code != 0 || strings.Join(strings.Fields(out), " ") != "eth0 lo" {
		t.Errorf("a node sees interfaces %q (exit %d), want eth0 and lo", out, code)
	}
}
