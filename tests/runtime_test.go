package tests

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/rootfs"
)

// TestRuncRuntime: a file's runtime: runc runs its nodes with runc (a
// bundle each, an overlay root, runc's own state directory, no Docker
// container), gives them what Docker gives a node (hostname, resolv.conf,
// /etc/hosts, environment; files: the routing tests), keeps a node's own layer when its
// process is killed and up starts it again, and keeps the lab on runc
// until down.
func TestRuncRuntime(t *testing.T) {
	parallel(t)
	name := labName(t)
	file := writeLab(t, name, `runtime: runc
defaults: {image: netlab/tiny}
nodes:
  a:
    hostname: a.example.com
    dns: [10.9.9.9]
    dns_search: [example.com]
    env: {GREETING: hello}
    command: "echo started $$GREETING; exec sleep 100000"
    interfaces: {eth0: {address: 10.81.1.1/30}}
  b:
    interfaces: {eth0: {address: 10.81.1.2/30}}
links: [[a:eth0, b:eth0]]
`)
	l := &lab{t: t, name: name, file: file, runtime: "runc"}
	t.Cleanup(func() { l.down() })
	// No watcher: this test is about what up does (the watcher's test
	// has the watcher start a killed node).
	if r := netlabRaw(t, "up", "--no-watch", file); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "status", name, "--json"); strings.Count(r.stdout, `"runtime": "runc"`) != 2 {
		t.Errorf("status does not show two runc nodes:\n%s", r.stdout)
	}
	if out := dockerContainers(name); len(out) > 0 {
		t.Errorf("a runc lab made Docker containers: %s", out)
	}
	// The root is an overlay of the image under a's own layer, mounted in
	// a's namespace only: a host mount would be copied into every node.
	if out, _ := l.exec("a", "grep", " / / ", "/proc/self/mountinfo"); !strings.Contains(out, " overlay ") ||
		!strings.Contains(out, "upperdir=/var/lib/netlab/labs/"+name+"/a/upper") {
		t.Errorf("a's root is no overlay over its own layer: %q", out)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), " /run/netlab/"+name+"/") {
		t.Errorf("a's root is mounted on the host too")
	}
	// The image's root in the cache is in use while a runs: not removed.
	lower := l.imageRoot("a")
	if err := removeImageRoot(lower); !errors.Is(err, rootfs.ErrInUse) {
		t.Errorf("removing a's image root %s from the cache while a runs: %v, want ErrInUse", lower, err)
	}
	for cmd, want := range map[string]string{
		"hostname": "a.example.com", "echo $GREETING": "hello",
		"cat /etc/resolv.conf": "nameserver 10.9.9.9\nsearch example.com", "grep -w b /etc/hosts": "10.81.1.2\tb",
	} {
		if out, _ := l.exec("a", "sh", "-c", cmd); !strings.Contains(out, want) {
			t.Errorf("%s on a: %q, want %q", cmd, out, want)
		}
	}
	l.mustPing("a", "10.81.1.2")
	waitFor(t, "a's log", func() bool {
		r := netlab(t, "logs", name, "a")
		return strings.Contains(r.stdout, "started hello")
	})

	// Another runtime is refused while the lab runs.
	if r := netlabRaw(t, "up", "--no-watch", "--runtime", "docker", file); r.code == 0 || !strings.Contains(r.stderr, "runs on the runc runtime") {
		t.Errorf("up --runtime docker of a runc lab: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A killed node stays down; up starts it on the same root and rewires it.
	l.exec("a", "touch", "/kept")
	l.kill("a")
	if r := netlab(t, "status", name); !strings.Contains(r.stdout, "│ a    │ exited") {
		t.Errorf("status after a's process was killed:\n%s", r.stdout)
	}
	if r := netlabRaw(t, "up", "--no-watch", file); r.code != 0 || !strings.Contains(r.stdout, "is up:") {
		t.Fatalf("up after a was killed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, code := l.exec("a", "test", "-f", "/kept"); code != 0 {
		t.Error("a's own layer was not kept across its restart")
	}
	l.mustPing("a", "10.81.1.2")
	if r := netlabRaw(t, "up", "--no-watch", file); !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second up after the repair:\n%s%s", r.stdout, r.stderr)
	}
}

// imageRoot is the unpacked image in the rootfs cache that a runc node's
// root is made on (its bundle's netlab.lower annotation).
func (l *lab) imageRoot(node string) string {
	l.t.Helper()
	var cfg struct{ Annotations map[string]string }
	data, err := os.ReadFile(l.bundle(node) + "/config.json")
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		l.t.Fatalf("node %s's bundle: %v", node, err)
	}
	return cfg.Annotations["netlab.lower"]
}

// removeImageRoot removes an unpacked image (its directory) from the
// rootfs cache.
func removeImageRoot(dir string) error {
	return rootfs.NewCache(filepath.Dir(dir)).Remove(context.Background(), "sha256:"+filepath.Base(dir))
}

// TestDownRemovesImageRoots: the images a runc lab's nodes were unpacked
// from leave the cache with the lab, unless down --keep-cache.
func TestDownRemovesImageRoots(t *testing.T) {
	parallel(t)
	if !onRunc() {
		t.Skip("a runc runtime test (NETLAB_RUNTIME=runc)")
	}
	name := labName(t)
	// An image of this test's alone, so that no other lab's node uses its root.
	image := "netlab-test/" + name
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM netlab/tiny\nCOPY unique /unique\n"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "unique"), []byte(name+"\n"), 0o644)
	if out, err := exec.Command("docker", "build", "-q", "-t", image, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	file := writeLab(t, name, "runtime: runc\nnodes:\n  a: {image: "+image+"}\n")
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	root := func() string {
		t.Helper()
		if r := netlab(t, "up", "--no-watch", file); r.code != 0 {
			t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return l.imageRoot("a")
	}
	dir := root()
	t.Cleanup(func() { removeImageRoot(dir) })
	if r := netlab(t, "down", "--keep-cache", name); r.code != 0 || strings.Contains(r.stdout, "unpacked image") {
		t.Fatalf("down --keep-cache: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("down --keep-cache removed the image root %s: %v", dir, err)
	}
	if again := root(); again != dir {
		t.Fatalf("up after down --keep-cache: root %s, want the cached %s", again, dir)
	}
	r := netlab(t, "down", name)
	if r.code != 0 || !strings.Contains(r.stdout, "1 unpacked image (down --keep-cache keeps them)") {
		t.Fatalf("down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("down left the image root %s", dir)
	}
}
