package convert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/spec"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for f, content := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKatharaConverts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "My_Lab")
	write(t, dir, map[string]string{
		"lab.conf": `# comment
LAB_AUTHOR="someone"
r1[0]="A"
r1[1]="B/02:00:00:00:00:11"
r1[image]="kathara/frr:latest"
r1[sysctl]="net.ipv4.conf.all.forwarding=1"
r1[env]="GREETING=hi there"
h1[0]=A
h1[mem]="128m"
h1[exec]="echo $HOME"
h2[0]="B"
h2[image]="someone/custom"
h2[sysctl]="net.ipv6.conf.eth0.accept_ra=2"
wireshark[image]="lscr.io/linuxserver/wireshark"
wireshark[port]="3000:3000"
`,
		"r1.startup":          "/etc/init.d/frr start\n",
		"r1/etc/frr/frr.conf": "!\n",
	})
	_, notes, lab := convertKathara(t, dir)
	if lab.Name != "my-lab" || len(lab.Networks) != 2 || len(lab.Nodes) != 3 {
		t.Errorf("lab %s: %d networks, %d nodes", lab.Name, len(lab.Networks), len(lab.Nodes))
	}
	r1 := lab.Nodes["r1"]
	if r1.Image != "netlab/router" || r1.Interfaces["eth1"].Network != "B" || r1.Interfaces["eth1"].MAC != "02:00:00:00:00:11" ||
		r1.Env["GREETING"] != "hi there" || r1.Sysctls["net.ipv4.conf.all.forwarding"] != "1" || !r1.Forward {
		t.Errorf("r1 converted as %+v", r1)
	}
	if cmd := r1.Command[0]; !strings.HasPrefix(cmd, "cp -rfT /hostlab/r1 /; sh /hostlab/r1.startup;") {
		t.Errorf("r1's command: %s", cmd)
	}
	if cmd := lab.Nodes["h1"].Command[0]; !strings.Contains(cmd, "echo $HOME") {
		t.Errorf("h1's [exec] lost its $: %s", cmd)
	}
	var all []string
	for _, n := range notes {
		all = append(all, n.String())
	}
	got := strings.Join(all, "\n")
	if lab.Nodes["wireshark"] != nil {
		t.Error("the wireshark device is kept: netlab capture replaces it")
	}
	if cmd := lab.Nodes["h2"].Command[0]; !strings.HasPrefix(cmd, "sysctl -q -w net.ipv6.conf.eth0.accept_ra=2;") || lab.Nodes["h2"].Sysctls["net.ipv6.conf.eth0.accept_ra"] != "" {
		t.Errorf("an interface's sysctl must be set after the wiring: %s", cmd)
	}
	for _, want := range []string{"lab.conf:9: h1[mem] is ignored", "h2 uses image someone/custom", "wireshark (lscr.io/linuxserver/wireshark) is left out"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
}

func TestKatharaErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"lab.conf": "a[0]=\"A\"\na[0]=\"B\"\nnot a line\nb[color]=\"red\"\nc[1]=\"\"\n"})
	_, _, err := Kathara(dir)
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Notes) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for i, line := range []int{2, 3, 4, 5} {
		if ce.Notes[i].Line != line {
			t.Errorf("problem %d at line %d, want %d: %s", i, ce.Notes[i].Line, line, ce.Notes[i])
		}
	}
	if IsKathara(t.TempDir()) {
		t.Error("an empty folder is no Kathará lab")
	}
}

func TestClabConverts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.clab.yml")
	write(t, dir, map[string]string{"x.clab.yml": `name: x
topology:
  nodes:
    r1: {kind: linux, image: frrouting/frr:v8.4.0, binds: ["r1/frr.conf:/etc/frr/frr.conf"], exec: ["echo hi"]}
    h1: {kind: linux, image: alpine, env: {A: b}}
    br: {kind: bridge}
  links:
    - endpoints: ["r1:eth1", "h1:eth1"]
    - endpoints: ["r1:eth2", "br:p1"]
`})
	data, notes, err := Clab(file)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := spec.Parse(data, file)
	if err != nil {
		t.Fatalf("converted topology does not load: %v\n%s", err, data)
	}
	r1 := lab.Nodes["r1"]
	if r1.Image != "netlab/router" || r1.Interfaces["eth2"].Network != "br" || r1.Volumes[0] != "r1/frr.conf:/etc/frr/frr.conf" ||
		r1.Command[0] != "echo hi; exec /usr/local/sbin/netlab-start router" || len(lab.Links) != 1 || lab.Nodes["h1"].Env["A"] != "b" {
		t.Errorf("converted as:\n%s", data)
	}
	if len(notes) != 2 {
		t.Errorf("notes: %v", notes)
	}
	if !IsClab("a.clab.yaml") || IsClab("a.yaml") {
		t.Error("IsClab")
	}
}

// A builtin signature (NODE.builtin) becomes a signature check; an old one
// (NODE.default) a note.
func TestKatharaBuiltinTests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	write(t, dir, map[string]string{
		"lab.conf":                  "a[0]=\"A\"\nb[0]=\"A\"\nw[0]=\"A\"\nw[image]=\"wireshark\"\n",
		"_test/signature/a.builtin": `{"interfaces": {}, "route": [], "listening_ports": [], "processes": []}`,
		"_test/signature/b.default": "[ROUTING TABLE]\n",
		"_test/signature/w.builtin": `{"interfaces": {}, "route": [], "listening_ports": [], "processes": []}`,
	})
	data, notes, lab := convertKathara(t, dir)
	if len(lab.Checks) != 1 || lab.Checks[0].Probe != "signature" || lab.Checks[0].Node != "a" || lab.Checks[0].Name != "a: Kathará builtin test" {
		t.Fatalf("checks: %s", data)
	}
	var all []string
	for _, n := range notes {
		all = append(all, n.String())
	}
	if got := strings.Join(all, "\n"); !strings.Contains(got, "_test/signature: b.default not compared: these are Netkit's") {
		t.Errorf("notes lack b.default's:\n%s", got)
	}
}

// Kathará's single-service images, whatever their tag, become netlab/host,
// which carries their services, without a note that netlab lacks them.
func TestKatharaServiceImages(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"lab.conf": `dns[0]="A"
dns[image]="kathara/bind:9.11"
web[0]="A"
web[image]="kathara/apache"
dhcp[0]="A"
dhcp[image]="kathara/dnsmasq:latest"
`})
	_, notes, lab := convertKathara(t, dir)
	for _, n := range []string{"dns", "web", "dhcp"} {
		if img := lab.Nodes[n].Image; img != "netlab/host" {
			t.Errorf("%s runs %q, want netlab/host", n, img)
		}
	}
	for _, n := range notes {
		if strings.Contains(n.String(), "does not build") {
			t.Errorf("note for an image netlab maps: %s", n)
		}
	}
}

// A device with [ipv6] forwards IPv6 as Kathará's do (radvd, for one,
// will not start on a router that does not), unless its own [sysctl]
// says otherwise; a device without it gets none of that.
func TestKatharaIPv6Forwards(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"lab.conf": `r1[0]="A"
r1[ipv6]="True"
r2[0]="A"
r2[ipv6]="true"
r2[sysctl]="net.ipv6.conf.all.forwarding=0"
pc[0]="A"
`})
	_, _, lab := convertKathara(t, dir)
	for node, want := range map[string]string{"r1": "1", "r2": "0", "pc": ""} {
		got := lab.Nodes[node].Sysctls["net.ipv6.conf.all.forwarding"]
		if got != want {
			t.Errorf("%s: net.ipv6.conf.all.forwarding = %q, want %q", node, got, want)
		}
	}
	if got := lab.Nodes["r2"].Sysctls["net.ipv6.conf.all.disable_ipv6"]; got != "0" {
		t.Errorf("r2: net.ipv6.conf.all.disable_ipv6 = %q, want 0", got)
	}
}

// convertKathara converts the Kathará lab in dir and loads the result,
// failing the test if either fails.
func convertKathara(t *testing.T, dir string) ([]byte, []Note, *spec.Lab) {
	t.Helper()
	data, notes, err := Kathara(dir)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := spec.Parse(data, "converted")
	if err != nil {
		t.Fatalf("converted lab does not load: %v\n%s", err, data)
	}
	return data, notes, lab
}

// Kathará's default image, kathara/base, carries FRR: a device that runs
// it (FRR's or Quagga's files in its folder, or a startup that starts
// the daemons) runs netlab/router, whose nodes get the capabilities FRR
// needs; one that does not stays on the default netlab/host.
func TestKatharaBaseRunningFRR(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"lab.conf": `r1[0]="A"
r2[0]="A"
r3[0]="A"
r3[image]="kathara/base"
pc[0]="A"
web[0]="A"
web[image]="kathara/base"
`,
		"r1/etc/frr/daemons": "zebra=yes\nbgpd=yes\n",
		"r2.startup":         "ip addr add 10.0.0.2/24 dev eth0\n/etc/init.d/zebra start\n",
		"r3.startup":         "systemctl start frr\n",
		"pc.startup":         "ip addr add 10.0.0.9/24 dev eth0\n# systemctl start frr\n",
		"web.startup":        "systemctl start apache2\n",
	})
	_, _, lab := convertKathara(t, dir)
	for node, want := range map[string]string{"r1": "netlab/router", "r2": "netlab/router", "r3": "netlab/router", "pc": "netlab/host", "web": "netlab/host"} {
		if got := lab.Nodes[node].Image; got != want {
			t.Errorf("%s runs %q, want %q", node, got, want)
		}
	}
}
