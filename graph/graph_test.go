package graph

import (
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/spec"
)

func topo(t *testing.T, file string) *Topology {
	t.Helper()
	lab, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return FromLab(lab)
}

func TestGoldenFopnp(t *testing.T) {
	tp := topo(t, "../labs/fopnp.yaml")
	for format, got := range map[string]string{
		"dot": tp.DOT(), "mmd": tp.Mermaid(), "json": string(tp.JSON()), "svg": tp.SVG(),
	} {
		golden.Check(t, filepath.Join("testdata", "fopnp."+format), got)
	}
}

// The SVG of every lab is well-formed, names every node with its
// addresses, and no two boxes overlap.
func TestSVGShowsEverything(t *testing.T) {
	files, _ := filepath.Glob("../labs/*.yaml")
	for _, f := range files {
		tp := topo(t, f)
		svg := tp.SVG()
		dec := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := dec.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: SVG is not well-formed XML: %v", f, err)
				}
				break
			}
		}
		for _, n := range tp.Nodes {
			if !strings.Contains(svg, `id="node-`+n.Name+`"`) {
				t.Errorf("%s: node %s not drawn", f, n.Name)
			}
			for _, i := range n.Interfaces {
				for _, a := range i.Addrs {
					if !strings.Contains(svg, a) {
						t.Errorf("%s: address %s of %s not drawn", f, a, n.Name)
					}
				}
			}
		}
		l := newLayout(tp)
		for i, a := range l.v {
			for _, b := range l.v[i+1:] {
				if a.x-a.w/2 < b.x+b.w/2 && b.x-b.w/2 < a.x+a.w/2 && a.y < b.y+b.h && b.y < a.y+a.h {
					t.Errorf("%s: %s and %s overlap", f, a.name, b.name)
				}
			}
		}
	}
}

func TestFopnpLayoutIsATree(t *testing.T) {
	l := newLayout(topo(t, "../labs/fopnp.yaml"))
	depth := map[string]int{}
	for _, v := range l.v {
		depth[v.name] = v.depth
	}
	// Hosts hang below their home segment, which hangs below its modem.
	if !(depth["node:h1"] == depth["network:homeA"]+1 && depth["network:homeA"] == depth["node:modemA"]+1) {
		t.Errorf("depths: %v", depth)
	}
	for _, e := range l.edges {
		if !e.tree {
			t.Errorf("fopnp is a tree, yet edge %s-%s is not in it", l.v[e.a].name, l.v[e.b].name)
		}
	}
}

func TestRolesAndJSON(t *testing.T) {
	tp := topo(t, "../labs/fopnp.yaml")
	want := map[string]Role{"h1": RoleHost, "modemA": RoleNAT, "isp": RoleRouter, "www": RoleServer, "backbone": RoleRouter}
	for name, r := range want {
		if got := tp.Node(name).Role; got != r {
			t.Errorf("%s: role %s, want %s", name, got, r)
		}
	}
	var back Topology
	if err := json.Unmarshal(tp.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Nodes) != 12 || len(back.Networks) != 3 || len(back.Links) != 4 {
		t.Errorf("JSON round trip: %d nodes, %d networks, %d links", len(back.Nodes), len(back.Networks), len(back.Links))
	}
	if p := back.Node("isp").Interfaces[1].Peer; p != "modemA:eth0" {
		t.Errorf("isp:eth1 peer = %q", p)
	}
}

func TestMermaidAndDOTNameEveryNode(t *testing.T) {
	tp := topo(t, "../labs/fopnp.yaml")
	dot, mmd := tp.DOT(), tp.Mermaid()
	for _, n := range tp.Nodes {
		if !strings.Contains(dot, `"`+n.Name+`" [label=`) {
			t.Errorf("DOT lacks node %s", n.Name)
		}
		if !strings.Contains(mmd, "n_"+n.Name+`["`) {
			t.Errorf("Mermaid lacks node %s", n.Name)
		}
	}
	if !strings.Contains(dot, `"backbone" -- "isp" [taillabel="eth0", headlabel="eth0"`) {
		t.Error("DOT lacks the backbone-isp link")
	}
}

// An interface with address: dhcp says so, and a network that netlab
// serves DHCP on shows its range, in every picture.
func TestDHCPShown(t *testing.T) {
	lab, err := spec.Parse([]byte(`
name: x
networks:
  lan: {subnet: 10.0.0.0/24, dhcp: {range: [10.0.0.100, 10.0.0.199]}}
nodes:
  a: {image: busybox, interfaces: {eth0: {network: lan, address: [dhcp, fd00::a/64]}}}
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp := FromLab(lab)
	for format, got := range map[string]string{"text": tp.Text(), "svg": tp.SVG(), "dot": tp.DOT(), "mmd": tp.Mermaid()} {
		for _, want := range []string{"eth0 dhcp fd00::a/64", "lan 10.0.0.0/24 dhcp 10.0.0.100-10.0.0.199"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s does not show %q:\n%s", format, want, got)
			}
		}
	}
}

func TestFormatOfAndRender(t *testing.T) {
	for file, want := range map[string]string{"": "text", "x.SVG": "svg", "x.gv": "dot", "x.mmd": "mermaid", "x.json": "json", "x.txt": "text", "x": "svg", "x.png": "svg"} {
		if got := FormatOf(file); got != want {
			t.Errorf("FormatOf(%q) = %s, want %s", file, got, want)
		}
	}
	topo := &Topology{}
	for _, f := range Formats {
		if _, err := topo.Render(f); err != nil {
			t.Errorf("Render(%s): %v", f, err)
		}
	}
	if _, err := topo.Render("png"); err == nil || !strings.Contains(err.Error(), `unknown graph format "png" (known: dot, json, mermaid, svg, text)`) {
		t.Errorf("Render(png): %v", err)
	}
}
