package converge_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
)

func plan(t *testing.T, body string) *planner.Plan {
	t.Helper()
	lab, err := spec.Parse([]byte("name: lab\n"+body), "/labs/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const before = `defaults: {image: netlab/tiny}
networks: {lan: {}, old: {}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.0.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.0.0.2/24}}}
  c: {interfaces: {eth0: {network: old, address: 10.1.0.3/24}}, publish: ["2201:22"]}
`

const after = `defaults: {image: netlab/tiny}
networks: {lan: {}, new: {}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.0.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.0.0.5/24}}}
  d: {interfaces: {eth0: {network: new, address: 10.2.0.4/24}}}
`

// observe builds the observed state of a lab made from body and running
// as planned: the way provider.Observe would see it.
func observe(t *testing.T, body string) converge.Observed {
	p := plan(t, body)
	o := converge.Observed{Nodes: map[string]converge.Node{}}
	for _, s := range p.Steps {
		switch s.Kind {
		case planner.KindCreate:
			cfg := s.Container.Config()
			o.Nodes[s.Node] = converge.Node{Container: s.Container.Name, Image: cfg.Image, Running: true, Config: &cfg, Interfaces: map[string][]converge.Addr{}}
		case planner.KindBridge:
			o.HostLinks = append(o.HostLinks, converge.HostLink{Name: s.Bridge.Name, Alias: s.Bridge.Alias, Bridge: true})
		case planner.KindPort:
			o.HostLinks = append(o.HostLinks, converge.HostLink{Name: s.Veth.A.Name, Alias: s.Veth.A.Alias})
		case planner.KindAddr:
			var addrs []converge.Addr
			for _, a := range s.Addr.Addrs {
				addrs = append(addrs, converge.Addr{Prefix: a})
			}
			addrs = append(addrs, converge.Addr{Prefix: netip.MustParsePrefix("fe80::1/64")})
			o.Nodes[s.Node].Interfaces[s.Addr.Iface] = addrs
		case planner.KindPublish:
			o.Helpers = append(o.Helpers, naming.PublishPidName(s.Node, s.Publish.HostIP.String(), s.Publish.HostPort, s.Publish.Proto))
		}
	}
	return o
}

// diff is converge.Diff with what each kind of step owns.
func diff(p *planner.Plan, o converge.Observed) []converge.Change {
	return converge.Diff(p, o, steps.Owns)
}

func lines(changes []converge.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(string(c.Action) + " " + c.What() + " " + c.Name)
		if c.Detail != "" {
			b.WriteString(" (" + c.Detail + ")")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestDiffUpToDate(t *testing.T) {
	if got := diff(plan(t, before), observe(t, before)); len(got) != 0 {
		t.Errorf("a lab as planned has changes:\n%s", lines(got))
	}
}

func TestDiffEdited(t *testing.T) {
	got := lines(diff(plan(t, after), observe(t, before)))
	want := `remove helper publish-c@127.0.0.1-2201.pid
remove node c lab_c
remove address b:eth0 10.0.0.2/24
remove network old ` + naming.Bridge("lab", "old") + `
create node d lab_d (image netlab/tiny)
create network new ` + naming.Bridge("lab", "new") + `
add address b:eth0 10.0.0.5/24
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDiffRecreate(t *testing.T) {
	edited := strings.Replace(before, "  b: {interfaces", "  b: {image: netlab/host, env: {X: y}, interfaces", 1)
	got := lines(diff(plan(t, edited), observe(t, before)))
	want := "recreate node b lab_b (image netlab/tiny -> netlab/host; env (none) -> {\"X\":\"y\"})\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDiffKeepsDynamicAndUnrecorded(t *testing.T) {
	o := observe(t, before)
	a := o.Nodes["a"]
	a.Interfaces["eth0"] = append(a.Interfaces["eth0"], converge.Addr{Prefix: netip.MustParsePrefix("2001:db8::99/64"), Dynamic: true})
	b := o.Nodes["b"]
	b.Config = nil // made by an older netlab: kept, whatever its image
	b.Image = "other"
	o.Nodes["b"] = b
	c := o.Nodes["c"]
	c.Running = false
	o.Nodes["c"] = c
	if got, want := lines(diff(plan(t, before), o)), "start node c lab_c\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDiffMissingInterface(t *testing.T) {
	o := observe(t, before)
	delete(o.Nodes["a"].Interfaces, "eth0")
	if got, want := lines(diff(plan(t, before), o)), "create interface a:eth0 eth0\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCollisions(t *testing.T) {
	p := plan(t, before)
	labels := func(lab, node, file string) map[string]string {
		return map[string]string{naming.LabelLab: lab, naming.LabelNode: node, naming.LabelFile: file}
	}
	ok := []converge.Existing{{Name: "lab_a", Labels: labels("lab", "a", "/labs/lab.yaml")}, {Name: "x-a", Labels: labels("x", "a", "/x.yaml")}}
	if err := converge.Collisions(p, ok); err != nil {
		t.Errorf("the lab itself collides: %v", err)
	}
	err := converge.Collisions(p, []converge.Existing{{Name: "lab_z", Labels: labels("lab", "z", "/other/lab.yaml")}})
	if err == nil || err.Error() != "lab lab is up from /other/lab.yaml; bring it down first (netlab down lab) or rename it" {
		t.Errorf("same name from another file: %v", err)
	}
	err = converge.Collisions(p, []converge.Existing{{Name: "lab_b", Labels: labels("la", "b-b", "/la.yaml")}, {Name: "lab_c"}})
	want := "container name lab_b of node b is taken by node b-b of lab la from /la.yaml: rename this lab or that one, or bring it down (netlab down la)\n" +
		"container name lab_c of node c is taken by a container netlab did not make: remove it (docker rm -f lab_c) or rename the lab"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestConfigLabelRoundTrip(t *testing.T) {
	p := plan(t, before)
	cfg := p.Step("create:c").Container.Config()
	back := converge.ParseConfig(cfg.Label())
	if back == nil || len(back.Differences(cfg)) != 0 {
		t.Errorf("label %s reads back as %+v", cfg.Label(), back)
	}
	if converge.ParseConfig("") != nil || converge.ParseConfig("{bad") != nil {
		t.Error("a missing or broken label reads as a configuration")
	}
}

// Routes and links of kept nodes: those netlab made and the file dropped
// go; a student's own (not among Outside and Routes) are never seen.
func TestDiffRoutesAndLinks(t *testing.T) {
	const was = `defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {address: 10.0.0.1/30}, eth1: {address: 10.0.1.1/30}}, routes: [{to: 10.9.0.0/16, via: 10.0.0.2}, {to: 10.8.0.0/16, via: 10.0.1.2}]}
  b: {interfaces: {eth0: {address: 10.0.0.2/30}}}
  c: {interfaces: {eth0: {address: 10.0.1.2/30}}}
links:
  - [a:eth0, b:eth0]
  - [a:eth1, c:eth0]
`
	const is = `defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {address: 10.0.0.1/30}}, routes: [{to: 10.9.0.0/16, via: 10.0.0.2}, {to: 10.7.0.0/16, via: 10.0.0.2}]}
  b: {interfaces: {eth0: {address: 10.0.0.2/30}}}
  c: {}
links:
  - [a:eth0, b:eth0]
`
	o := observe(t, was)
	for node, ends := range plan(t, was).Interfaces() {
		n := o.Nodes[node]
		for _, e := range ends {
			n.Outside = append(n.Outside, e.Name)
		}
		o.Nodes[node] = n
	}
	a := o.Nodes["a"]
	a.Routes = []planner.Route{
		{Dst: netip.MustParsePrefix("10.9.0.0/16"), Via: netip.MustParseAddr("10.0.0.2"), Dev: "eth0"},
		{Dst: netip.MustParsePrefix("10.8.0.0/16"), Via: netip.MustParseAddr("10.0.1.2"), Dev: "eth1"},
	}
	o.Nodes["a"] = a
	got := lines(diff(plan(t, is), o))
	want := `remove route a 10.8.0.0/16 via 10.0.1.2 dev eth1
remove interface a:eth1 eth1
remove interface c:eth0 eth0
add route a 10.7.0.0/16 via 10.0.0.2
`
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if got := lines(diff(plan(t, was), o)); got != "" {
		t.Errorf("a lab as its file says has changes:\n%s", got)
	}
}
