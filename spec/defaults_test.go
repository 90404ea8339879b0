package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultsApplyToEveryNodeKey(t *testing.T) {
	src := `
name: d
defaults:
  image: busybox
  command: sleep 1000
  env: {A: "1", B: "2"}
  volumes: ["/tmp:/tmp"]
  sysctls: {net.ipv4.ip_forward: "1"}
  cap_add: [SYS_ADMIN]
  forward: true
  dns: [10.0.0.53]
  dns_search: [example.com]
  depends_on: [dns]
nodes:
  dns: {}
  a: {}
  b:
    image: other
    command: [echo, hi]
    env: {B: "3"}
    volumes: []
    sysctls: {net.ipv6.conf.all.forwarding: "1"}
    cap_add: [cap_sys_ptrace]
    cap_drop: [net_raw]
    forward: false
    dns: []
    depends_on: [a]
`
	lab, err := Parse([]byte(src), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b, dns := lab.Nodes["a"], lab.Nodes["b"], lab.Nodes["dns"]
	if a.Image != "busybox" || a.Command[0] != "sleep 1000" || a.Env["A"] != "1" || a.Volumes[0] != "/tmp:/tmp" ||
		a.Sysctls["net.ipv4.ip_forward"] != "1" || !a.Forward || a.DNS[0] != "10.0.0.53" || a.DNSSearch[0] != "example.com" {
		t.Errorf("defaults not applied to a: %+v", a)
	}
	if !slices.Equal(a.DependsOn, []string{"dns"}) || len(dns.DependsOn) != 0 {
		t.Errorf("depends_on: a %v, dns %v (a node never depends on itself through defaults)", a.DependsOn, dns.DependsOn)
	}
	if want := []string{"NET_ADMIN", "NET_RAW", "SYS_ADMIN"}; !slices.Equal(a.Caps.Add, want) {
		t.Errorf("a caps %v, want %v", a.Caps.Add, want)
	}
	// b's own values win: maps merge, lists and values replace.
	if b.Image != "other" || b.Command[1] != "hi" || b.Env["A"] != "1" || b.Env["B"] != "3" || len(b.Volumes) != 0 ||
		b.Sysctls["net.ipv4.ip_forward"] != "1" || b.Sysctls["net.ipv6.conf.all.forwarding"] != "1" || b.Forward ||
		len(b.DNS) != 0 || b.DNSSearch[0] != "example.com" || !slices.Equal(b.DependsOn, []string{"a"}) {
		t.Errorf("b's own values lost: %+v", b)
	}
	if want := (Caps{Add: []string{"NET_ADMIN", "SYS_PTRACE"}, Drop: []string{"NET_RAW"}}); !slices.Equal(b.Caps.Add, want.Add) || !slices.Equal(b.Caps.Drop, want.Drop) {
		t.Errorf("b caps %+v, want %+v", b.Caps, want)
	}
}

func TestCaps(t *testing.T) {
	for _, tc := range []struct {
		node      string
		add, drop []string
		err       string
	}{
		{node: "{}", add: []string{"NET_ADMIN", "NET_RAW"}},
		{node: "{cap_drop: [ALL], cap_add: [NET_BIND_SERVICE]}", add: []string{"NET_BIND_SERVICE"}, drop: []string{"ALL"}},
		{node: "{cap_drop: [NET_ADMIN]}", add: []string{"NET_RAW"}, drop: []string{"NET_ADMIN"}},
		{node: "{cap_add: [ALL]}", add: []string{"ALL"}},
		{node: "{cap_add: [NET_FLY]}", err: `x.yaml:4:17: nodes.a.cap_add[0]: "NET_FLY" is not a Linux capability`},
		{node: "{cap_add: [SYS_ADMIN], cap_drop: [SYS_ADMIN]}", err: "nodes.a.cap_add[0]: SYS_ADMIN is both added and dropped"},
	} {
		lab, err := Parse([]byte("name: x\ndefaults: {image: i}\nnodes:\n  a: "+tc.node+"\n"), "x.yaml")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.node, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.node, err)
			continue
		}
		if c := lab.Nodes["a"].Caps; !slices.Equal(c.Add, tc.add) || !slices.Equal(c.Drop, tc.drop) {
			t.Errorf("%s: caps %+v, want add %v drop %v", tc.node, c, tc.add, tc.drop)
		}
	}
}

// A problem in a value taken from defaults is reported once, at defaults.
func TestDefaultsProblemsAtDefaults(t *testing.T) {
	src := "name: x\ndefaults:\n  image: i\n  cap_add: [BOGUS]\n  env: {1X: y}\nnodes:\n  a: {}\n  b: {}\n"
	_, err := Parse([]byte(src), "x.yaml")
	if err == nil {
		t.Fatal("loaded")
	}
	want := "x.yaml:4:13: defaults.cap_add[0]: \"BOGUS\" is not a Linux capability (such as NET_ADMIN, SYS_ADMIN, SYS_PTRACE, or ALL)\n" +
		"x.yaml:5:9: defaults.env.1X: \"1X\" is not a valid environment variable name"
	if err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
