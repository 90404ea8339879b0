package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVolumesStayInTheLab: a volume beneath the lab's folder is mounted;
// one that leads out of it through a link is refused before anything is
// made, and mounted once a person allows it (--allow-host).
func TestVolumesStayInTheLab(t *testing.T) {
	parallel(t)
	name := labName(t)
	dir := t.TempDir()
	outside := t.TempDir()
	for file, content := range map[string]string{filepath.Join(dir, "data", "hello"): "inside\n", filepath.Join(outside, "secret"): "outside\n"} {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "lab.yaml")
	body := "name: " + name + `
defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.78.0.0/24}}
nodes:
  a:
    interfaces: {eth0: {network: lan}}
    volumes: ["./data:/data:ro", "./out:/out:ro"]
`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })

	r := netlab(t, withRuntime([]string{"up", file})...)
	if r.code == 0 || !strings.Contains(r.stderr, "nodes.a.volumes[1]: host path ./out is mounted into node a, through a link to "+outside) {
		t.Fatalf("up of a lab whose volume leads out through a link: exit %d, want a refusal naming the request\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left := leftovers(name); left != "" {
		t.Errorf("a refused up made: %s", left)
	}
	if r := netlab(t, withRuntime([]string{"up", "--allow-host", file})...); r.code != 0 {
		t.Fatalf("up --allow-host: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for path, want := range map[string]string{"/data/hello": "inside", "/out/secret": "outside"} {
		if out, code := l.exec("a", "cat", path); code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("cat %s in the node: %q (exit %d), want %q", path, out, code, want)
		}
	}
}
