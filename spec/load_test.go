package spec

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
)

// Every file in testdata/invalid must fail with exactly the messages in its
// .err file, and every problem must wrap ErrInvalid.
func TestInvalidFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) < 25 {
		t.Fatalf("want at least 25 invalid fixtures, have %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			golden.Check(t, strings.TrimSuffix(f, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

func TestLabsLoad(t *testing.T) {
	files, _ := filepath.Glob("../labs/*.yaml")
	if len(files) < 4 {
		t.Fatalf("want fopnp and at least three teaching labs, have %d", len(files))
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestFopnpFacts(t *testing.T) {
	lab, err := Load("../labs/fopnp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(lab.Nodes) != 12 || len(lab.Networks) != 3 || len(lab.Links) != 4 {
		t.Fatalf("fopnp has %d nodes, %d networks, %d links; want 12, 3, 4", len(lab.Nodes), len(lab.Networks), len(lab.Links))
	}
	h1 := lab.Nodes["h1"]
	if got := h1.Interfaces["eth1"].Addrs[0].String(); got != "192.168.1.11/24" {
		t.Errorf("h1 eth1 = %s", got)
	}
	if h1.Image != "fopnp/base" || h1.DNS[0] != "10.1.1.1" || h1.DNSSearch[0] != "example.com" {
		t.Errorf("defaults not applied to h1: %+v", h1)
	}
	if h1.Published[0].HostPort != 2201 || h1.Published[0].NodePort != 22 || h1.Published[0].HostIP.String() != "127.0.0.1" {
		t.Errorf("h1 publish = %v", h1.Published)
	}
	if lab.Nodes["www"].Hostname != "www.example.com" || lab.Nodes["backbone"].Image != "fopnp/dns" {
		t.Error("node overrides lost")
	}
	if mac := lab.Nodes["www"].Interfaces["eth0"].MAC; mac != "02:42:0a:82:01:04" {
		t.Errorf("www MAC derived as %s, want 02:42:0a:82:01:04", mac)
	}
}

func TestAllocation(t *testing.T) {
	src := `
name: alloc
defaults: {image: busybox}
networks:
  lan: {subnet: 10.0.0.0/29, subnet6: "fd00:1::/64"}
nodes:
  a: {interfaces: {eth0: {network: lan}}}
  b: {interfaces: {eth0: {network: lan, address: 10.0.0.1/29}}}
  c: {interfaces: {eth0: {network: lan, address: ["10.0.0.3/29", "fd00:1::9/64"]}}}
  d: {interfaces: {eth0: {network: lan}}}
`
	lab, err := Parse([]byte(src), "alloc.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": "10.0.0.2/29 fd00:1::1/64",
		"b": "10.0.0.1/29 fd00:1::2/64",
		"c": "10.0.0.3/29 fd00:1::9/64",
		"d": "10.0.0.4/29 fd00:1::3/64",
	}
	for name, w := range want {
		var got []string
		for _, p := range lab.Nodes[name].Interfaces["eth0"].Addrs {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s: got %v, want %s", name, got, w)
		}
	}
	if auto := lab.Nodes["c"].Interfaces["eth0"].Auto; len(auto) != 0 {
		t.Errorf("c gave both addresses, yet %v was allocated", auto)
	}
}

func TestParsePublish(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "2201:22", want: "127.0.0.1:2201->22/tcp"},
		{in: "80", want: "127.0.0.1:80->80/tcp"},
		{in: "0.0.0.0:8080:80", want: "0.0.0.0:8080->80/tcp"},
		{in: "[::1]:8053:53/tcp", want: "::1:8053->53/tcp"},
		{in: "5353:53/udp", want: "127.0.0.1:5353->53/udp"},
		{in: "127.0.0.1:5353:53/udp", want: "127.0.0.1:5353->53/udp"},
		{in: "53/udp", want: "127.0.0.1:53->53/udp"},
		{in: "5353:53/sctp", bad: true},
		{in: "5353:53/", bad: true},
		{in: "5353:53/UDP", bad: true},
		{in: "70000:22", bad: true},
		{in: "a:b", bad: true},
		{in: "host:22:22", bad: true},
	}
	for _, c := range cases {
		p, err := parsePublish(c.in)
		if c.bad != (err != nil) {
			t.Errorf("%q: err = %v, want bad=%v", c.in, err, c.bad)
			continue
		}
		if !c.bad && p.String() != c.want {
			t.Errorf("%q: got %s, want %s", c.in, p, c.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]uint64{"10mbit": 1250000, "512kbit": 64000, "1gbit": 125000000, "100kbps": 100000} {
		if got, ok := parseRate(in); !ok || got != want {
			t.Errorf("%s: got %d (%v), want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"fast", "10", "0mbit", "-1mbit"} {
		if _, ok := parseRate(in); ok {
			t.Errorf("%s parsed as a rate", in)
		}
	}
}

func TestReachable(t *testing.T) {
	lab, err := Load("../labs/fopnp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	isp := lab.Nodes["isp"]
	for _, c := range []struct {
		gw   string
		dev  string
		want bool
	}{
		{"10.1.1.1", "", true},      // route 10.1.1.1/32 dev eth0
		{"10.1.1.1", "eth0", true},  // ... on eth0
		{"10.1.1.1", "eth1", false}, // not on eth1
		{"10.25.1.65", "eth1", true},
		{"10.130.1.1", "", false}, // only via a gateway route: not on-link
	} {
		if got := Reachable(isp, netip.MustParseAddr(c.gw), c.dev); got != c.want {
			t.Errorf("isp reaches %s dev %q: got %v, want %v", c.gw, c.dev, got, c.want)
		}
	}
}

func TestYAMLAnchorsAndMerge(t *testing.T) {
	src := `
name: anchors
x-host: &host
  image: busybox
  gateway: 10.0.0.1
networks: {lan: {}}
nodes:
  r: {image: busybox, interfaces: {eth0: {network: lan, address: 10.0.0.1/24}}}
  a:
    <<: *host
    interfaces: {eth0: {network: lan, address: 10.0.0.2/24}}
`
	// x- keys are not part of the format: the schema rejects them by name.
	_, err := Parse([]byte(src), "a.yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown key "x-host"`) {
		t.Fatalf("want unknown key x-host, got %v", err)
	}
	src = strings.Replace(src, "x-host: &host\n  image: busybox\n  gateway: 10.0.0.1\n", "", 1)
	src = strings.Replace(src, "  r: {image", "  r: &host {image", 1)
	src = strings.Replace(src, "    <<: *host\n", "    <<: *host\n    gateway: 10.0.0.1\n", 1)
	lab, err := Parse([]byte(src), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := lab.Nodes["a"]; a.Image != "busybox" || a.Interfaces["eth0"].Addrs[0].String() != "10.0.0.2/24" {
		t.Errorf("merge key not applied: %+v", a)
	}
}

func TestProblemsList(t *testing.T) {
	_, err := Load("testdata/invalid/many-problems.yaml")
	ps := Problems(err)
	if len(ps) < 4 {
		t.Fatalf("want every problem reported, got %d: %v", len(ps), err)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Line < ps[i-1].Line {
			t.Errorf("problems out of file order: %v then %v", ps[i-1], ps[i])
		}
	}
}
