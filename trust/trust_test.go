package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/labs"
	"github.com/netlab/netlab/spec"
)

// No bundled lab needs a flag: each asks for nothing, or is trusted as
// one of netlab's own. The ones that ask are named here, so that a new
// request in a bundled lab is a decision, not an accident.
func TestBundledLabsNeedNoFlag(t *testing.T) {
	withRequests := map[string]bool{}
	for _, l := range labs.List() {
		data, err := labs.Content(l.Name)
		if err != nil {
			t.Fatal(err)
		}
		lab, err := spec.Parse(data, filepath.Join("../labs", l.Name+".yaml"))
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		reqs := Requests(lab)
		if len(reqs) > 0 {
			withRequests[l.Name] = true
			for _, r := range reqs {
				t.Logf("bundled lab %s: %s", l.Name, r)
			}
		}
		if err := Allowed(lab, data, reqs, Options{Store: t.TempDir()}); err != nil {
			t.Errorf("bundled lab %s is refused: %v", l.Name, err)
		}
		// Changed by one byte, it is no longer netlab's own.
		if len(reqs) > 0 {
			edited := append([]byte("# edited\n"), data...)
			if err := Allowed(lab, edited, reqs, Options{Store: t.TempDir()}); err == nil {
				t.Errorf("an edited copy of %s is trusted as bundled", l.Name)
			}
		}
	}
	want := map[string]bool{"bridged": true, "fopnp": true, "host-link": true}
	for name := range want {
		if !withRequests[name] {
			t.Errorf("bundled lab %s asks nothing of the host any more: update this test", name)
		}
	}
	for name := range withRequests {
		if !want[name] {
			t.Errorf("bundled lab %s asks something of the host: is it meant to?", name)
		}
	}
}

// fopnp publishes its ssh ports on loopback only; it mounts netlab's own
// /var/lib/netlab/fopnp (its shared files), outside its directory, which
// it may as a bundled lab.
func TestFopnpAsksOneMount(t *testing.T) {
	lab, err := spec.Load("../labs/fopnp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reqs := Requests(lab)
	if len(reqs) != 1 || reqs[0].Kind != Mount || !strings.Contains(reqs[0].Text, "/var/lib/netlab/fopnp") {
		t.Errorf("fopnp asks %v", reqs)
	}
}

// Every way out is listed, at its place; consent comes from --allow-host
// or a trust record of the file's exact content, which an edit revokes.
func TestHostileLab(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "hostile.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	lab, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	reqs := Requests(lab)
	var lines []string
	for _, r := range reqs {
		lines = append(lines, strings.ReplaceAll(r.String(), dir, "$DIR"))
	}
	golden.Check(t, "testdata/hostile.requests", strings.Join(lines, "\n")+"\n")

	store := t.TempDir()
	err = Allowed(lab, src, reqs, Options{Store: store})
	var refused *Refused
	if !errors.As(err, &refused) || len(refused.Requests) != len(reqs) {
		t.Fatalf("not refused: %v", err)
	}
	for _, want := range []string{"netlab up --allow-host " + file, "netlab trust " + file, "hostile.yaml:5:13: defaults.volumes[0]: host path / is mounted into every node that takes defaults.volumes, which is the machine's own /"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if err := Allowed(lab, src, reqs, Options{AllowHost: true, Store: store}); err != nil {
		t.Errorf("--allow-host: %v", err)
	}
	if _, err := Record(lab, src, store); err != nil {
		t.Fatal(err)
	}
	if err := Allowed(lab, src, reqs, Options{Store: store}); err != nil {
		t.Errorf("trusted: %v", err)
	}
	// Any edit revokes: the file, or a file it reads.
	edited := append(append([]byte{}, src...), '\n')
	if err := Allowed(lab, edited, reqs, Options{Store: store}); err == nil {
		t.Error("an edited file is still trusted")
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("X=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Allowed(lab, src, reqs, Options{Store: store}); err == nil {
		t.Error("a new .env beside the file leaves it trusted")
	}
	os.Remove(filepath.Join(dir, ".env"))
	// A request the record does not list (the same bytes, other variables).
	more := append(reqs, Request{Kind: Mount, Path: "nodes.a.volumes[9]", Text: "node a mounts /srv"})
	if err := Allowed(lab, src, more, Options{Store: store}); err == nil {
		t.Error("a request made after the trust is allowed")
	}
	// A record that others can write is ignored.
	digest, _ := Digest(lab, src)
	os.Chmod(filepath.Join(store, digest), 0o666)
	if err := Allowed(lab, src, reqs, Options{Store: store}); err == nil || !strings.Contains(err.Error(), "only root") {
		t.Errorf("a world-writable record: %v", err)
	}
}

func TestExtraCaps(t *testing.T) {
	got := ExtraCaps([]string{"cap_net_admin", "NET_RAW", "CHOWN", "SYS_ADMIN", "ALL", "sys_module", "SYS_ADMIN"})
	if strings.Join(got, ",") != "ALL,SYS_ADMIN,SYS_MODULE" {
		t.Errorf("ExtraCaps = %v", got)
	}
}
