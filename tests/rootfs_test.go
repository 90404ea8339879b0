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

// TestRootfsFromDocker gets images from the engine into a fresh cache,
// then again without exporting them: the same entry, untouched. It logs
// the times (netlab/host, 290 MB, is left out with -short).
func TestRootfsFromDocker(t *testing.T) {
	parallel(t)
	ctx := context.Background()
	c := rootfs.NewCache(t.TempDir())
	defer c.Close()
	for _, tc := range []struct{ ref, file string }{
		{"netlab/tiny", "bin/busybox"},
		{"netlab/host", "usr/sbin/ip"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			if tc.ref != "netlab/tiny" && testing.Short() {
				t.Skip("-short")
			}
			if tc.ref != "netlab/tiny" && exec.Command("docker", "image", "inspect", tc.ref).Run() != nil {
				t.Skipf("no %s image (make images builds it)", tc.ref)
			}
			getTwice(t, c, tc.ref, tc.file)
		})
	}
	if _, err := c.Get(ctx, "netlab/no-such-image"); err == nil || !strings.Contains(err.Error(), "not in the Docker engine's store") {
		t.Errorf("Get of a missing image: %v", err)
	}
	ids, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := c.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if des, err := os.ReadDir(c.Dir()); err != nil || len(des) != 0 {
		t.Errorf("cache after Remove holds %v, %v; want nothing", des, err)
	}
}

// getTwice gets ref from c twice: unpacked, with file in it, then cached.
func getTwice(t *testing.T, c *rootfs.Cache, ref, file string) {
	ctx := context.Background()
	out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	id := strings.TrimSpace(string(out))

	start := time.Now()
	img, err := c.Get(ctx, ref)
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
	fi, err := os.Stat(filepath.Join(img.Dir, file))
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s in the unpacked image: %v, %v", file, fi, err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(img.Dir, &before); err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	again, err := c.Get(ctx, ref)
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
	if third, err := other.Get(ctx, ref); err != nil || third.Unpacked || third.Dir != img.Dir {
		t.Errorf("Get from another Cache: %v, %v", third, err)
	}
	t.Logf("%s: first Get %v, cached Get %v", ref, first.Round(time.Millisecond), cached.Round(10*time.Microsecond))
}
