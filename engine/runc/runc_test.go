package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
)

func TestNodeCaps(t *testing.T) {
	for _, c := range []struct {
		add, drop []string
		has, not  []string
	}{
		{add: []string{"NET_ADMIN", "NET_RAW"}, has: []string{"CAP_NET_ADMIN", "CAP_CHOWN", "CAP_SYS_CHROOT"}, not: []string{"CAP_SYS_ADMIN"}},
		{add: []string{"NET_ADMIN", "SYS_ADMIN"}, drop: []string{"CHOWN"}, has: []string{"CAP_SYS_ADMIN"}, not: []string{"CAP_CHOWN"}},
		{add: []string{"NET_ADMIN"}, drop: []string{"ALL"}, has: []string{"CAP_NET_ADMIN"}, not: []string{"CAP_CHOWN", "CAP_NET_RAW"}},
	} {
		got := nodeCaps(c.add, c.drop)
		for _, h := range c.has {
			if !slices.Contains(got, h) {
				t.Errorf("nodeCaps(%v, %v) = %v: no %s", c.add, c.drop, got, h)
			}
		}
		for _, n := range c.not {
			if slices.Contains(got, n) {
				t.Errorf("nodeCaps(%v, %v) = %v: has %s", c.add, c.drop, got, n)
			}
		}
	}
	if got := nodeCaps(nil, nil); len(got) != len(dockerCaps) {
		t.Errorf("nodeCaps(nil, nil) = %v, want Docker's %d", got, len(dockerCaps))
	}
}

func TestLookupUser(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nfrr:x:100:101::/var/run/frr:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nfrrvty:x:102:frr\n"), 0o644)
	for user, want := range map[string]specs.User{
		"": {}, "frr": {UID: 100, GID: 101}, "1000": {UID: 1000, GID: 1000}, "frr:frrvty": {UID: 100, GID: 102}, "5:7": {UID: 5, GID: 7},
	} {
		got, err := lookupUser(root, user)
		if err != nil || got.UID != want.UID || got.GID != want.GID {
			t.Errorf("lookupUser(%q) = %+v, %v; want %+v", user, got, err, want)
		}
	}
	if _, err := lookupUser(root, "nobody"); err == nil {
		t.Error("an unknown user is no error")
	}
}

func TestRuncConfig(t *testing.T) {
	c := &planner.Container{Name: "lab_a", Image: "netlab/tiny", Hostname: "a.example.com",
		Env: map[string]string{"X": "1", "PATH": "/bin"}, Volumes: []string{"/srv/www:/www:ro"},
		Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}, DHCP: []string{"eth0"},
		Labels: map[string]string{naming.LabelLab: "lab", naming.LabelNode: "a"}}
	img := &rootfs.Image{Env: []string{"PATH=/usr/bin", "LANG=C"}, WorkingDir: "/srv", Dir: "/cache/x"}
	cfg, err := runcConfig(c, img, specs.User{}, []string{"sleep", "1"}, []string{"NET_ADMIN"}, "/b", "/r", "/netlab")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Process.Args, " "); got != engine.InitPath+" _init --dhcp eth0 -- sleep 1" {
		t.Errorf("args %q", got)
	}
	if !slices.Contains(cfg.Process.Env, "PATH=/bin") || !slices.Contains(cfg.Process.Env, "LANG=C") || !slices.Contains(cfg.Process.Env, "X=1") ||
		!slices.Contains(cfg.Process.Env, "HOSTNAME=a.example.com") {
		t.Errorf("env %v", cfg.Process.Env)
	}
	if cfg.Process.Cwd != "/srv" || cfg.Hostname != "a.example.com" || cfg.Linux.Sysctl["net.ipv4.ip_forward"] != "1" ||
		cfg.Linux.Sysctl["net.ipv6.conf.all.disable_ipv6"] != "1" {
		t.Errorf("cwd %q hostname %q sysctls %v", cfg.Process.Cwd, cfg.Hostname, cfg.Linux.Sysctl)
	}
	if cfg.Annotations[naming.LabelLab] != "lab" || cfg.Annotations[naming.LabelConfig] == "" || cfg.Annotations[annotationImage] != "netlab/tiny" {
		t.Errorf("annotations %v", cfg.Annotations)
	}
	// The root first, mounted by runc in the node: an overlay of the
	// image under the node's own layer, in its bundle.
	if root := cfg.Mounts[0]; root.Destination != "/" || root.Type != "overlay" ||
		!slices.Equal(root.Options, []string{"lowerdir=/cache/x", "upperdir=/b/upper", "workdir=/b/work"}) {
		t.Errorf("first mount %+v, want the overlay root", root)
	}
	binds := map[string]specs.Mount{}
	for _, m := range cfg.Mounts {
		binds[m.Destination] = m
	}
	for dst, src := range map[string]string{"/etc/hosts": "/b/hosts", "/etc/resolv.conf": "/b/resolv.conf", engine.InitPath: "/netlab", engine.ReadyDir: "/r", "/www": "/srv/www"} {
		if binds[dst].Source != src {
			t.Errorf("mount on %s from %q, want %q", dst, binds[dst].Source, src)
		}
	}
	if !slices.Contains(binds["/www"].Options, "ro") || !slices.Contains(binds[engine.InitPath].Options, "ro") || slices.Contains(binds["/etc/hosts"].Options, "ro") {
		t.Errorf("read-only binds: /www %v, init %v, hosts %v", binds["/www"].Options, binds[engine.InitPath].Options, binds["/etc/hosts"].Options)
	}
	ns := map[specs.LinuxNamespaceType]bool{}
	for _, n := range cfg.Linux.Namespaces {
		ns[n.Type] = n.Path == ""
	}
	for _, want := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
		if !ns[want] {
			t.Errorf("no new %s namespace", want)
		}
	}
	if _, err := runcConfig(&planner.Container{Volumes: []string{"data:/data"}, Labels: map[string]string{}}, img, specs.User{}, []string{"x"}, nil, "/b", "/r", "/n"); err == nil {
		t.Error("a named volume is no error on runc")
	}
}

func TestBundleOf(t *testing.T) {
	if dir, ok := bundleOf("lab_node"); !ok || dir != filepath.Join(engine.StateDir, "lab", "node") {
		t.Errorf("bundleOf(lab_node) = %q, %v", dir, ok)
	}
	for _, id := range []string{"0123abcd", "lab_", "_node", "../x_y", "a.b_c"} {
		if _, ok := bundleOf(id); ok {
			t.Errorf("bundleOf(%q) is a bundle", id)
		}
	}
}

func TestReadState(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, json string
		want       state
		err        bool
	}{
		{"runc's order", `{"id":"x","init_process_pid":42,"init_process_start":99,"config":{"a":[1,2]}}`, state{Pid: 42, Start: 99}, false},
		{"config first", `{"config":{"mounts":[{"destination":"/"}]},"init_process_start":7,"init_process_pid":3}`, state{Pid: 3, Start: 7}, false},
		{"no process", `{"id":"x","config":{}}`, state{}, false},
		{"not an object", `[1]`, state{}, true},
		{"bad pid", `{"init_process_pid":"x"}`, state{}, true},
	} {
		file := filepath.Join(dir, "state.json")
		if err := os.WriteFile(file, []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readState(file)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: readState = %+v, %v; want %+v (error %v)", c.name, got, err, c.want, c.err)
		}
	}
	if _, err := readState(filepath.Join(dir, "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want ErrNotExist", err)
	}
}

// TestProcRunning: a node's process runs unless it ended, or the pid is
// another process's now; a zombie leader whose other threads still run is
// a process exec'ing from another thread (the first line is one that a
// 1,000-node up took for a node dead at start).
func TestProcRunning(t *testing.T) {
	tail := " 0 0 18446744073709551615 0 0 0 0 0 0 0 0 2143420159 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	for _, c := range []struct {
		name, stat string
		want       bool
	}{
		{"leader exec'ing", "23066 (init) Z 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 3 0 4263922" + tail, true},
		{"zombie", "23066 (init) Z 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 1 0 4263922" + tail, false},
		{"dead", "23066 (init) X 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 1 0 4263922" + tail, false},
		{"sleeping", "23066 (sh) S 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 1 0 4263922" + tail, true},
		{"another process", "23066 (sh) S 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 1 0 4263999" + tail, false},
		{"odd name", "23066 (a) Z 1 (b) S 1 23066 23066 0 -1 4228364 956 0 0 0 0 1 0 0 20 0 1 0 4263922" + tail, true},
		{"short", "23066 (sh) S 1 23066", false},
	} {
		if got := procRunning([]byte(c.stat), 4263922); got != c.want {
			t.Errorf("%s: procRunning = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRebase: a node whose image root left the cache is put on the
// image's current root, its own layer kept; its config says so.
func TestRebase(t *testing.T) {
	dir := t.TempDir()
	cfg := &specs.Spec{Root: &specs.Root{Path: dir + "/rootfs"}, Mounts: []specs.Mount{rootMount("/cache/old", dir), bind("/x", "/y", true)},
		Annotations: map[string]string{annotationLower: "/cache/old"}}
	if err := rebase(cfg, "/cache/new", dir); err != nil {
		t.Fatal(err)
	}
	saved, err := readConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lowerdir=/cache/new", "upperdir=" + dir + "/upper", "workdir=" + dir + "/work"}
	if !slices.Equal(saved.Mounts[0].Options, want) || saved.Annotations[annotationLower] != "/cache/new" || len(saved.Mounts) != 2 {
		t.Errorf("rebased config: mounts %+v, annotations %v", saved.Mounts, saved.Annotations)
	}
	if err := rebase(&specs.Spec{Mounts: []specs.Mount{bind("/x", "/y", true)}}, "/cache/new", dir); err == nil {
		t.Error("a config whose first mount is not the root: no error")
	}
}

// TestSettle: a state directory whose state.json comes late (a runc run
// still under way) is waited for; one that never gets it is removed.
func TestSettle(t *testing.T) {
	r := &Runc{root: t.TempDir()}
	late := filepath.Join(r.root, "late")
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.WriteFile(filepath.Join(late, "state.json"), []byte(`{"init_process_pid":0}`), 0o644)
	}()
	if _, known := r.settle("late"); !known {
		t.Error("a state.json written 0.3 s late: not known")
	}
	if _, known := r.settle("none"); known {
		t.Error("no state directory: known")
	}
	if testing.Short() {
		return
	}
	dead := filepath.Join(r.root, "dead")
	os.Mkdir(dead, 0o755)
	if _, known := r.settle("dead"); known {
		t.Error("a state directory that never gets state.json: known")
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("its directory stays: %v", err)
	}
}

// A reader of config.json (List, for every lab) never sees it half
// written while an up writes it again.
func TestConfigFileWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	big := make(map[string]string)
	for i := range 2000 {
		big[fmt.Sprintf("key%d", i)] = strings.Repeat("v", 50)
	}
	data, _ := json.Marshal(map[string]any{"annotations": big})
	if err := writeConfigFile(dir, data); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				wrote <- nil
				return
			default:
			}
			if err := writeConfigFile(dir, data); err != nil {
				wrote <- err
				return
			}
		}
	}()
	for range 500 {
		got, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil || !json.Valid(got) {
			t.Fatalf("read config.json while it was written: %v, %d bytes, valid JSON %v", err, len(got), json.Valid(got))
		}
	}
	close(stop)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// A lab is runc's when a node's folder in its state directory has a
// bundle (config.json); a Docker lab's folders hold /etc files only.
func TestHasLab(t *testing.T) {
	state, run := t.TempDir(), t.TempDir()
	oldState, oldRun := engine.StateDir, engine.RunDir
	engine.StateDir, engine.RunDir = state, run
	t.Cleanup(func() { engine.StateDir, engine.RunDir = oldState, oldRun })
	for _, d := range []string{"docker/a", "runc/a", "runc/b", "legacy"} {
		os.MkdirAll(filepath.Join(state, d), 0o755)
	}
	os.WriteFile(filepath.Join(state, "docker", "a", "hosts"), nil, 0o644)
	os.WriteFile(filepath.Join(state, "runc", "b", "config.json"), []byte("{}"), 0o644)
	os.MkdirAll(filepath.Join(run, "legacy", ".runc"), 0o755)
	r := &Runc{}
	for lab, want := range map[string]bool{"docker": false, "runc": true, "legacy": true, "none": false, "a/b": false} {
		if got := r.HasLab(lab); got != want {
			t.Errorf("HasLab(%q) = %v, want %v", lab, got, want)
		}
	}
}
