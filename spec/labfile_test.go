package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Files a lab refers to are read beneath its directory, only if regular,
// and up to a limit; a FIFO does not block and /dev/zero does not fill
// memory.
func TestReadLabFile(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "frr.conf"), []byte("router ospf\n"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("s3cret"), 0o600))
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(os.Symlink("../frr.conf", filepath.Join(dir, "sub", "ok-link")))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "abs-link")))
	must(os.Symlink("../"+filepath.Base(outside)+"/secret", filepath.Join(dir, "rel-link")))
	must(os.Symlink("/etc/resolv.conf", filepath.Join(dir, "resolv-link")))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "zero-link")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "big"), make([]byte, 2000), 0o644))

	for _, c := range []struct {
		name, want string // want: the content, or a part of the error
	}{
		{"frr.conf", "router ospf\n"},
		{"sub/ok-link", "router ospf\n"},
		{filepath.Join(dir, "frr.conf"), "router ospf\n"},
		{"../" + filepath.Base(outside) + "/secret", "outside the lab's directory"},
		{"abs-link", "outside the lab's directory"},
		{"rel-link", "outside the lab's directory"},
		{"resolv-link", "outside the lab's directory"},
		{"zero-link", "outside the lab's directory"},
		{"fifo", "not a regular file"},
		{"big", "2000 bytes, more than the 1000"},
		{"missing", "no such file"},
	} {
		done := make(chan struct{})
		var data []byte
		var err error
		go func() {
			data, err = ReadLabFile(dir, c.name, 1000)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5 s", c.name)
		}
		got := string(data)
		if err != nil {
			got = "error: " + err.Error()
			if strings.Contains(got, "s3cret") {
				t.Errorf("%s: the error shows the content: %s", c.name, got)
			}
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// /dev/zero named outright is the author's choice of a host file:
	// still not a regular file.
	if _, err := ReadLabFile(dir, "/dev/zero", 1000); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadLabFile(dir, "../x", 1000); !errors.Is(err, ErrOutsideLab) {
		t.Errorf("../x: %v, want ErrOutsideLab", err)
	}
}

// A lab whose config.frr, signature or .env is a FIFO or leads out of its
// directory loads with a problem at the key, at once.
func TestLabFilesRefused(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "frr.conf"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "frr.conf"), filepath.Join(dir, "frr.conf")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "sig.builtin"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, ".env"), 0o644); err != nil {
		t.Fatal(err)
	}
	lab := "name: x\nnodes:\n  r:\n    image: ${IMG:-netlab/router}\n    config: {frr: frr.conf}\nchecks:\n  - {on: r, signature: sig.builtin}\n"
	file := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(file, []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file)
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		".env: read variables: read .env: not a regular file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
	os.Remove(filepath.Join(dir, ".env"))
	_, err = Load(file)
	got = ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		"lab.yaml:5:19: nodes.r.config.frr: cannot read frr.conf: outside the lab's directory",
		"lab.yaml:7:24: checks[0].signature: cannot read sig.builtin: not a regular file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
	if strings.Contains(got, "secret") {
		t.Errorf("a problem shows a file's content: %s", got)
	}
	// The lab file itself: a FIFO is refused, not waited on.
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO as the lab file: %v", err)
	}
}
