package convert

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// No value of a source lab becomes YAML of its own in the converted file:
// a newline or a quote in an image, an environment variable, a link, a
// sysctl or a MAC stays inside its value.
func TestClabValuesStayValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "evil.clab.yml")
	src := `name: evil
topology:
  nodes:
    a:
      kind: linux
      image: "busybox2\n    cap_add: [ALL]\n    volumes: ['/:/host']"
      env: {"X\n    cap_add: [ALL]\n    y": "v\"}\n    cap_add: [ALL]\n#"}
      binds: ["x\"]\n    cap_add: [ALL]\n#"]
      cmd: "sh\"\n    cap_add: [ALL]\n#"
    b: {kind: linux, image: netlab/tiny}
  links:
    - endpoints: ["a:eth1", "b:eth1\"]\n  - [\"a:eth2"]
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := Clab(file)
	if err != nil {
		t.Fatal(err)
	}
	checkNoCaps(t, out)
}

func TestKatharaValuesStayValues(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evil")
	write(t, dir, map[string]string{"lab.conf": `a[0]="A"
a[image]="x}, cap_add: [ALL], y: {z"
a[env]="K}, cap_add: [ALL], x: {y=v"
a[sysctl]="net.ipv4.ip_forward}, cap_add: [ALL], x: {y=1"
a[exec]="echo \", cap_add: [ALL]"
b[0]="A/02:00:00:00:00:01\", cap_add: [ALL], x: \""
LAB_DESCRIPTION="x\"
`})
	out, _, err := Kathara(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkNoCaps(t, out)
}

// checkNoCaps reads converted output as YAML: no mapping in it may have a
// cap_add key, nor any value be the bind mount of /, whether or not
// netlab's checks accept the values the source gave.
func checkNoCaps(t *testing.T, out []byte) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(out, &root); err != nil {
		t.Fatalf("converted output is not YAML: %v\n%s", err, out)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				if n.Content[i].Value == "cap_add" {
					t.Errorf("converted output has a cap_add key at line %d:\n%s", n.Content[i].Line, out)
				}
			}
		}
		if n.Kind == yaml.ScalarNode && n.Value == "/:/host" {
			t.Errorf("converted output binds / at line %d:\n%s", n.Line, out)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
}
