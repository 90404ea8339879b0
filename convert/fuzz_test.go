package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// converted checks a converter's output: YAML whose keys are only those
// the converters write (no value of the source became a key of its own),
// and, where it loads, no request of the host but those allowed.
func converted(t *testing.T, out []byte, source string, allowed func(trust.Request) bool) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(out, &root); err != nil {
		t.Fatalf("the output is not YAML: %v\n%s", err, out)
	}
	known := map[string]bool{"name": true, "defaults": true, "networks": true, "nodes": true, "links": true, "checks": true}
	nodeKeys := map[string]bool{"image": true, "interfaces": true, "volumes": true, "env": true, "command": true, "sysctls": true, "forward": true}
	top := root.Content[0]
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i].Value, top.Content[i+1]
		if !known[k] {
			t.Fatalf("the output has a key %q of its own:\n%s", k, out)
		}
		if k == "nodes" {
			for j := 1; j < len(v.Content); j += 2 {
				n := v.Content[j]
				for m := 0; m < len(n.Content); m += 2 {
					if !nodeKeys[n.Content[m].Value] {
						t.Fatalf("a node has a key %q:\n%s", n.Content[m].Value, out)
					}
				}
			}
		}
	}
	lab, err := spec.Parse(out, source)
	if err != nil {
		return // a value the source gave that netlab refuses: said with its place
	}
	for _, r := range trust.Requests(lab) {
		if !allowed(r) {
			t.Fatalf("the output asks %s, which the input did not:\n%s", r, out)
		}
	}
}

// FuzzKathara: any lab.conf converts to a lab file that asks nothing of
// the host (Kathará's privileged and bridged are noted, not kept).
func FuzzKathara(f *testing.F) {
	confs, _ := filepath.Glob("testdata/kathara/*/lab.conf")
	for _, c := range confs {
		data, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("a[0]=\"A\"\na[image]=\"x}, cap_add: [ALL], y: {z\"\na[env]=\"K}, cap_add: [ALL], x: {y=v\"\na[privileged]=\"true\"\na[bridged]=\"true\"\n")
	f.Add("a[0]=\"A/02:00:00:00:00:01\\\", cap_add: [ALL]\"\na[sysctl]=\"kernel.core_pattern=|/tmp/x\"\nLAB_DESCRIPTION=\"x\\ny\"\n")
	f.Fuzz(func(t *testing.T, conf string) {
		dir := filepath.Join(t.TempDir(), "lab")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "lab.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := Kathara(dir)
		if err != nil {
			return
		}
		converted(t, out, filepath.Join(dir, "lab.conf"), func(trust.Request) bool { return false })
	})
}

// FuzzKatharaStartup: whatever tc lines a device's startup holds, the lab
// converts to a lab file that loads (a netem line maps to a link whose
// impairments netlab takes, or is noted) and asks nothing of the host.
func FuzzKatharaStartup(f *testing.F) {
	f.Add("tc qdisc add dev eth0 root netem delay 10ms 5ms loss 10%\n")
	f.Add("tc qdisc replace dev eth0 root handle 1: netem rate 1mbit delay 250\ntc qdisc add dev eth0 root netem loss random 1%\n")
	f.Add("tc qdisc add dev eth0 root netem delay 99999s\n")
	f.Fuzz(func(t *testing.T, startup string) {
		dir := filepath.Join(t.TempDir(), "lab")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"lab.conf": "a[0]=\"A\"\nb[0]=\"A\"\n", "a.startup": startup} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, _, err := Kathara(dir)
		if err != nil {
			t.Fatalf("a valid lab.conf did not convert: %v", err)
		}
		if _, err := spec.Parse(out, "converted"); err != nil {
			t.Fatalf("the converted lab does not load: %v\n%s", err, out)
		}
		converted(t, out, filepath.Join(dir, "lab.conf"), func(trust.Request) bool { return false })
	})
}

// FuzzClab: any containerlab topology converts to a lab file that asks of
// the host at most the binds it had.
func FuzzClab(f *testing.F) {
	files, _ := filepath.Glob("testdata/clab/*.clab.yml")
	for _, c := range files {
		data, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("name: e\ntopology:\n  nodes:\n    a: {kind: linux, image: \"busybox\\n    cap_add: [ALL]\", binds: [\"/:/host\"], env: {\"X\\n  y\": v}}\n    b: {kind: linux}\n  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n")
	f.Fuzz(func(t *testing.T, topo string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "x.clab.yml")
		if err := os.WriteFile(file, []byte(topo), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := Clab(file)
		if err != nil {
			return
		}
		converted(t, out, file, func(r trust.Request) bool {
			if r.Kind != trust.Mount {
				return false
			}
			// "host path SRC is mounted into ...": SRC was a bind.
			return strings.Contains(topo, strings.Fields(r.Text)[2])
		})
	})
}
