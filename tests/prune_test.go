package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type pruneResult struct {
	DryRun  bool `json:"dry_run"`
	Removed []struct {
		Kind  string `json:"kind"`
		Dir   string `json:"dir"`
		Bytes int64  `json:"bytes"`
	} `json:"removed"`
	Freed   int64    `json:"freed"`
	Skipped []string `json:"skipped"`
}

func prune(t *testing.T, args ...string) pruneResult {
	t.Helper()
	r := netlabRaw(t, append([]string{"prune", "--json"}, args...)...)
	var res pruneResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil {
		t.Fatalf("netlab prune %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return res
}

// bytesOf is what the result says of dir: its size, and whether it is
// there.
func (r pruneResult) bytesOf(dir string) (int64, bool) {
	for _, p := range r.Removed {
		if p.Dir == dir {
			return p.Bytes, true
		}
	}
	return 0, false
}

// fakeDir makes a directory of 1 MiB of data, removed after the test.
func fakeDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "data"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPrune: netlab prune removes an unpacked image, a copy of netlab and
// a lab's state (left by a reboot, not recorded for restore) that no lab
// uses and says how much they took; --dry-run removes nothing;
// the image root of a runc lab whose node is stopped (no mount holds it)
// stays, and the node starts on it again.
func TestPrune(t *testing.T) {
	serial(t) // prunes what the other tests' labs do not use
	name := labName(t)
	sum := sha256.Sum256([]byte(name))
	fakeRoot := "/var/lib/netlab/rootfs/" + hex.EncodeToString(sum[:])
	fakeInit := "/var/lib/netlab/init/netlab-" + name
	// A lab's state left by a reboot, neither up nor recorded for restore.
	fakeState := "/var/lib/netlab/labs/" + name + "-gone"
	fakeDir(t, fakeRoot)
	fakeDir(t, fakeInit)
	fakeDir(t, fakeState+"/a/upper")
	l := &lab{t: t, name: name, runtime: "runc"}
	l.file = writeLab(t, name, "runtime: runc\nnodes:\n  a: {image: netlab/tiny, command: exec sleep 600}\n")
	t.Cleanup(l.down)
	if r := netlabRaw(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	root := l.imageRoot("a")
	l.stop("a")

	dry := prune(t, "--dry-run")
	if n, ok := dry.bytesOf(fakeRoot); !ok || n < 1<<20 || !dry.DryRun {
		t.Errorf("prune --dry-run: %+v, want %s of at least 1 MiB", dry, fakeRoot)
	}
	if _, ok := dry.bytesOf(root); ok {
		t.Errorf("prune --dry-run would remove %s, the root of a stopped node", root)
	}
	if n, ok := dry.bytesOf(fakeState); !ok || n < 1<<20 {
		t.Errorf("prune --dry-run: %+v, want %s (lab state) of at least 1 MiB", dry, fakeState)
	}
	if _, ok := dry.bytesOf("/var/lib/netlab/labs/" + name); ok {
		t.Errorf("prune --dry-run would remove the state of lab %s, which is up", name)
	}
	if _, err := os.Stat(fakeRoot); err != nil {
		t.Fatalf("prune --dry-run removed %s", fakeRoot)
	}

	// The copy of netlab goes once no up holds the directory (other
	// tests' and other people's ups may), for two minutes at most.
	var res pruneResult
	var rootGone, initGone bool
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		res = prune(t)
		var freed int64
		for _, p := range res.Removed {
			freed += p.Bytes
		}
		if freed != res.Freed {
			t.Errorf("prune: freed %d, its directories add up to %d", res.Freed, freed)
		}
		if _, ok := res.bytesOf(fakeRoot); ok {
			rootGone = true
		}
		if _, ok := res.bytesOf(fakeInit); ok {
			initGone = true
		} else if _, err := os.Stat(fakeInit); err != nil {
			// Another lab's down prunes unused copies too (PruneInits).
			t.Logf("%s went with another lab's down", fakeInit)
			initGone = true
		}
		if initGone && rootGone {
			break
		}
		if len(res.Skipped) == 0 {
			break
		}
	}
	if !rootGone || !initGone {
		t.Errorf("prune: %+v, want %s and %s removed", res, fakeRoot, fakeInit)
	}
	if _, ok := res.bytesOf(fakeState); !ok {
		if _, err := os.Stat(fakeState); err == nil {
			t.Errorf("prune: %+v, want %s removed", res, fakeState)
		}
	}
	for _, dir := range []string{fakeRoot, fakeInit, fakeState} {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("prune said it removed %s, which is still there", dir)
		}
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("prune removed %s, the root of a stopped node: %v", root, err)
	}
	if r := netlabRaw(t, "start", l.name, "a"); r.code != 0 {
		t.Fatalf("netlab start after prune: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "true"); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("exec in node a after prune: exit %d %s", code, out)
	}
}
