package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/schema"
)

func netlab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"netlab"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestInvalidFixturesExit2WithTheirMessages(t *testing.T) {
	files, _ := filepath.Glob("../../spec/testdata/invalid/*.yaml")
	if len(files) < 25 {
		t.Fatalf("found %d fixtures", len(files))
	}
	for _, f := range files {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := netlab(t, "validate", f)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want 2", f, code)
		}
		exp := strings.ReplaceAll(string(want), "testdata/invalid/", "../../spec/testdata/invalid/")
		if stderr != exp || stdout != "" {
			t.Errorf("%s:\n got stderr %q\nwant %q (stdout %q)", f, stderr, exp, stdout)
		}
	}
}

func TestValidateLabs(t *testing.T) {
	files, _ := filepath.Glob("../../labs/*.yaml")
	code, stdout, stderr := netlab(t, append([]string{"validate"}, files...)...)
	if code != 0 || strings.Count(stdout, ": ok, lab ") != len(files) || stderr != "" {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// One bad file among good ones: all are checked, exit 2.
	code, stdout, _ = netlab(t, "validate", files[0], "../../spec/testdata/invalid/no-image.yaml", files[1])
	if code != exitUsage || strings.Count(stdout, ": ok") != 2 {
		t.Errorf("mixed: exit %d, stdout %q", code, stdout)
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--version"}, 0, ""},
		{[]string{"--help"}, 0, ""},
		{[]string{"plan", "--help"}, 0, ""},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"plan"}, 2, "takes one lab file"},
		{[]string{"plan", "a.yaml", "b.yaml"}, 2, "takes one lab file"},
		{[]string{"plan", "--nope", "../../labs/p2p.yaml"}, 2, "flag provided but not defined"},
		{[]string{"validate"}, 2, "one or more lab files"},
		{[]string{"validate", "no-such-file.yaml"}, 2, "does not exist"},
		{[]string{"graph", "../../labs/p2p.yaml", "--format", "png"}, 2, `unknown graph format "png"`},
		{[]string{"schema", "extra"}, 2, "takes no arguments"},
		{[]string{"check"}, 2, "takes one lab file or lab name"},
		{[]string{"check", "../../labs/bridged.yaml"}, 2, "lab bridged has no checks: add a checks: list to ../../labs/bridged.yaml"},
		{[]string{"check", "../../labs/nat.yaml", "--stage", "2"}, 2, "lab nat has no stages"},
		{[]string{"check", "../../spec/testdata/invalid/checks.yaml"}, 2, "checks[0].from: unknown node"},
		{[]string{"check", "../../labs/nat.yaml", "--parallel", "0"}, 2, "--parallel must be at least 1"},
		{[]string{"capture", "lab"}, 2, "takes a lab and NODE:IF or a network"},
		{[]string{"capture", "lab", "a:eth0", "--count", "-1"}, 2, "cannot be negative"},
		{[]string{"capture", "lab", "a:eth0", "--duration", "soon"}, 2, "invalid value"},
	} {
		code, _, stderr := netlab(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.err) {
			t.Errorf("netlab %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.err)
		}
	}
}

func TestPlanFopnp(t *testing.T) {
	code, stdout, stderr := netlab(t, "plan", "../../labs/fopnp.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "lab fopnp: 12 containers, 3 bridges, 4 point-to-point links,") {
		t.Errorf("summary: %q", strings.SplitN(stdout, "\n", 2)[0])
	}
	for _, want := range []string{"bridge:homeA", "link:isp:eth1=modemA:eth0", "nat:modemA", "publish:h1:2201/tcp", "ready:www"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
	code, stdout, _ = netlab(t, "plan", "--json", "../../labs/fopnp.yaml")
	var p struct {
		Lab   string
		Steps []struct{ ID, Kind string }
	}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil || code != 0 || p.Lab != "fopnp" {
		t.Fatalf("plan --json: exit %d, %v", code, err)
	}
	kinds := map[string]int{}
	for _, s := range p.Steps {
		kinds[s.Kind]++
	}
	if kinds["create"] != 12 || kinds["bridge"] != 3 || kinds["link"] != 4 {
		t.Errorf("plan --json kinds: %v", kinds)
	}
}

// A transcript of `netlab plan` pins what users read.
func TestPlanTranscript(t *testing.T) {
	_, stdout, _ := netlab(t, "plan", "../../labs/p2p.yaml")
	golden.Check(t, "testdata/plan-p2p.txt", stdout)
}

func TestGraphToFile(t *testing.T) {
	dir := t.TempDir()
	for ext, marker := range map[string]string{".svg": "<svg", ".dot": "graph \"fopnp\"", ".mmd": "flowchart TB", ".json": "\"lab\": \"fopnp\"", ".txt": "├──"} {
		out := filepath.Join(dir, "fopnp"+ext)
		// Flags after the file, as users type them.
		code, _, stderr := netlab(t, "graph", "../../labs/fopnp.yaml", "-o", out)
		data, err := os.ReadFile(out)
		if code != 0 || err != nil || !strings.Contains(string(data), marker) {
			t.Errorf("graph -o %s: exit %d, %v, %s", out, code, err, stderr)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "fopnp.svg"))
	for _, n := range []string{"h1", "h2", "h3", "h4", "modemA", "modemB", "isp", "backbone", "example", "ftp", "mail", "www"} {
		if !strings.Contains(string(svg), `id="node-`+n+`"`) {
			t.Errorf("SVG lacks %s", n)
		}
	}
	for _, a := range []string{"192.168.1.11/24", "10.25.1.65/16", "10.130.1.4/24", "10.1.1.1/32"} {
		if !strings.Contains(string(svg), a) {
			t.Errorf("SVG lacks address %s", a)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	code, stdout, _ := netlab(t, "schema")
	if code != 0 || stdout != string(schema.JSON) || !json.Valid([]byte(stdout)) {
		t.Fatalf("schema: exit %d", code)
	}
}

func TestInterspersed(t *testing.T) {
	app := newApp(nil, nil)
	got := strings.Join(interspersed(app, []string{"netlab", "graph", "lab.yaml", "-o", "x.svg", "--format=dot"}), " ")
	if got != "netlab graph -o x.svg --format=dot lab.yaml" {
		t.Errorf("got %s", got)
	}
	got = strings.Join(interspersed(app, []string{"netlab", "plan", "lab.yaml", "--json", "--", "-x"}), " ")
	if got != "netlab plan --json lab.yaml -- -x" {
		t.Errorf("got %s", got)
	}
	// A capture's filter is the words after the target; "-w -" keeps its "-".
	got = strings.Join(interspersed(app, []string{"netlab", "capture", "lab", "a:eth0", "-w", "-", "icmp", "and", "host", "10.0.0.1", "-c", "4"}), " ")
	if got != "netlab capture -w - -c 4 lab a:eth0 icmp and host 10.0.0.1" {
		t.Errorf("got %s", got)
	}
}
