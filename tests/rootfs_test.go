package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/rootfs"
)

// TestRootfsFromDocker gets netlab/tiny from the engine into a fresh cache,
// then again without exporting it: the same entry, untouched.
func TestRootfsFromDocker(t *testing.T) {
	ctx := context.Background()
	out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", "netlab/tiny").Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(out))
	c := rootfs.NewCache(t.TempDir())
	defer c.Close()

	start := time.Now()
	img, err := c.Get(ctx, "netlab/tiny")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if img.ID != id || !img.Unpacked || img.Dir != filepath.Join(c.Dir(), strings.TrimPrefix(img.RootfsID, "sha256:")) {
		t.Errorf("first Get: ID %s unpacked=%v dir %s; want %s unpacked into the cache", img.ID, img.Unpacked, img.Dir, id)
	}
	if len(img.Cmd) == 0 || len(img.Env) == 0 {
		t.Errorf("no configuration from the image: Cmd %q Env %q", img.Cmd, img.Env)
	}
	fi, err := os.Stat(filepath.Join(img.Dir, "bin/busybox"))
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("bin/busybox in the unpacked image: %v, %v", fi, err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(img.Dir, &before); err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	again, err := c.Get(ctx, "netlab/tiny")
	if err != nil {
		t.Fatal(err)
	}
	cached := time.Since(start)
	if again.Unpacked || again.Dir != img.Dir || again.ID != img.ID {
		t.Errorf("second Get: %s unpacked=%v; want %s from the cache", again.Dir, again.Unpacked, img.Dir)
	}
	var after syscall.Stat_t
	if err := syscall.Stat(again.Dir, &after); err != nil {
		t.Fatal(err)
	}
	if after.Ino != before.Ino || after.Ctim != before.Ctim {
		t.Error("second Get replaced the cache entry")
	}
	// A fresh Cache (another netlab process) finds the entry too.
	other := rootfs.NewCache(c.Dir())
	defer other.Close()
	if third, err := other.Get(ctx, "netlab/tiny"); err != nil || third.Unpacked || third.Dir != img.Dir {
		t.Errorf("Get from another Cache: %v, %v", third, err)
	}
	t.Logf("netlab/tiny: first Get %v, cached Get %v", first.Round(time.Millisecond), cached.Round(10*time.Microsecond))

	if _, err := c.Get(ctx, "netlab/no-such-image"); err == nil || !strings.Contains(err.Error(), "not in the Docker engine's store") {
		t.Errorf("Get of a missing image: %v", err)
	}
	if err := c.Remove(ctx, img.RootfsID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(img.Dir); !os.IsNotExist(err) {
		t.Errorf("entry after Remove: %v", err)
	}
}
