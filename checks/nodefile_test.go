package checks

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A node's /etc/resolv.conf that is an absolute link leads to the node's
// file, not the machine's: the path is resolved inside the node's root.
func TestReadInRootStaysInside(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "run/resolve"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("run/resolve/stub.conf", "nameserver 10.0.0.53\n")
	link("/run/resolve/stub.conf", "etc/resolv.conf")
	link("/etc/hostname", "etc/host-link")           // the machine's has content; the node has none
	link("../../../../../../etc/hostname", "etc/up") // climbs to the node's /, no further
	link("/proc/self/root/etc/hostname", "etc/magic")
	if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("etc/big", strings.Repeat("x", 100))

	for _, c := range []struct{ path, want string }{
		{"/etc/resolv.conf", "nameserver 10.0.0.53\n"},
		{"/etc/host-link", "error: open /etc/host-link: no such file"},
		{"/etc/up", "error: open /etc/up: no such file"},
		{"/etc/magic", "error: open /etc/magic: no such file"},
		{"/etc/fifo", "error: read /etc/fifo: not a regular file"},
		{"/etc/big", "error: read /etc/big: more than the 10 bytes"},
	} {
		data, err := ReadInRoot(root, c.path, 10+int64(len("nameserver 10.0.0.53\n")))
		if c.path == "/etc/big" {
			data, err = ReadInRoot(root, c.path, 10)
		}
		got := string(data)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.path, got, c.want)
		}
	}
}
