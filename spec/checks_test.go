package spec

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChecksParse(t *testing.T) {
	src := `name: t
defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.0.0.0/24, subnet6: "fd00::/64"}
  far: {subnet: 10.0.5.0/24}
nodes:
  h1: {interfaces: {eth0: {network: lan}}, gateway: 10.0.0.1}
  r1:
    forward: true
    interfaces:
      eth0: {network: lan, address: 10.0.0.1/24}
      eth1: {network: far, address: 10.0.5.1/24}
  www: {hostname: www.example.com, interfaces: {eth0: {network: far, address: 10.0.5.5/24}}, gateway: 10.0.5.1}
checks:
  - {from: h1, ping: www, stage: 1}
  - {from: h1, ping: www.example.com, expect: fail, count: 3, timeout: 500ms}
  - {from: h1, tcp: "www:80", within: 10s}
  - {from: h1, udp: "[fd00::1]:53"}
  - {from: h1, dns: www.example.com, answer: 10.0.5.5}
  - {from: h1, dns: example.com, type: MX, answer: Mail.Example.com., server: r1}
  - {from: h1, dns: www.example.com, answer: "fd00::5"}
  - {from: h1, path: www, via: [10.0.0.1, r1]}
  - {from: h1, http: "https://www.example.com:8443/x", contains: hi}
  - {on: r1, route: 10.0.5.0/24}
  - {on: h1, route: default, via: 10.0.0.1}
  - {on: h1, address: eth0, is: 10.0.0.2/24}
  - {from: h1, run: "ping -c 1   www  && echo this is a rather long command line indeed", exit: 0, output: "bytes from"}
  - {from: h1, ping: www}
  - {name: web, from: h1, tcp: "10.0.5.5:80", retry: 3, hint: start httpd}
`
	lab, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		"h1 ping www",
		"h1 ping www.example.com (must fail)",
		"h1 tcp www:80",
		"h1 udp [fd00::1]:53",
		"h1 dns www.example.com A 10.0.5.5",
		"h1 dns example.com MX Mail.Example.com.",
		"h1 dns www.example.com AAAA fd00::5",
		"h1 path www via 10.0.0.1, r1",
		"h1 http https://www.example.com:8443/x",
		"r1 route 10.0.5.0/24",
		"h1 route default via 10.0.0.1",
		"h1 address eth0 is 10.0.0.2/24",
		`h1 run "ping -c 1 www && echo this is a rathe..."`,
		"h1 ping www #2",
		"web",
	}
	if len(lab.Checks) != len(names) {
		t.Fatalf("%d checks", len(lab.Checks))
	}
	for i, want := range names {
		if got := lab.Checks[i].Name; got != want {
			t.Errorf("checks[%d] is named %q, want %q", i, got, want)
		}
	}
	www := netip.MustParseAddr("10.0.5.5")
	c := lab.Checks
	if c[0].Stage != "1" || c[0].Probe != "ping" || c[0].Node != "h1" || c[0].Addr != www || c[0].Count != 1 || c[0].Limit != 2*time.Second {
		t.Errorf("ping: %+v", c[0])
	}
	if !c[1].ExpectFail || c[1].Count != 3 || c[1].Limit != 500*time.Millisecond || c[1].Addr != www {
		t.Errorf("ping expect fail: %+v", c[1])
	}
	if c[2].Port != 80 || c[2].Wait != 10*time.Second || c[2].Addr != www {
		t.Errorf("tcp: %+v", c[2])
	}
	if c[3].Addr != netip.MustParseAddr("fd00::1") || c[3].Port != 53 {
		t.Errorf("udp: %+v", c[3])
	}
	if c[4].Type != "A" || c[4].Addr.IsValid() || strings.Join(c[4].Answers, ",") != "10.0.5.5" {
		t.Errorf("dns: %+v", c[4])
	}
	if c[5].Addr != netip.MustParseAddr("10.0.0.1") || c[5].Answers[0] != "mail.example.com." {
		t.Errorf("dns MX: %+v", c[5])
	}
	if c[6].Type != "AAAA" {
		t.Errorf("dns AAAA: %+v", c[6])
	}
	if len(c[7].Hops) != 2 || len(c[7].Hops[1]) != 3 || c[7].Hops[1][2] != netip.MustParseAddr("10.0.5.1") {
		t.Errorf("path: %+v", c[7].Hops)
	}
	if c[8].Port != 8443 || c[8].Addr != www || c[8].Status != 200 || c[8].Limit != 5*time.Second {
		t.Errorf("http: %+v", c[8])
	}
	if c[9].Prefix != netip.MustParsePrefix("10.0.5.0/24") || c[9].Nexthop.IsValid() {
		t.Errorf("route: %+v", c[9])
	}
	if c[10].Prefix != netip.MustParsePrefix("0.0.0.0/0") || c[10].Nexthop != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("default route: %+v", c[10])
	}
	if c[11].Prefix != netip.MustParsePrefix("10.0.0.2/24") {
		t.Errorf("address: %+v", c[11])
	}
	if c[12].OutputRe == nil || c[12].ExitCode != 0 || c[12].Limit != 10*time.Second {
		t.Errorf("run: %+v", c[12])
	}
	if c[14].Retry != 3 || c[14].Hint != "start httpd" {
		t.Errorf("named: %+v", c[14])
	}
}

func TestLookupHost(t *testing.T) {
	lab, err := Parse([]byte(`name: t
defaults: {image: i}
networks: {lan: {subnet6: "fd00::/64"}}
nodes:
  a: {hostname: alpha.example.com, interfaces: {eth0: {network: lan}}}
  b: {interfaces: {eth0: {network: lan, address: ["fd00::9/64", 10.0.0.2/8]}}}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"a": "fd00::1", "alpha.example.com": "fd00::1", "alpha": "fd00::1",
		"b": "10.0.0.2", "192.0.2.1": "192.0.2.1", "nosuch": "invalid IP",
	} {
		got, _, _ := lab.LookupHost(host)
		if got.String() != want {
			t.Errorf("%s resolves to %v, want %s", host, got, want)
		}
	}
}

// A signature check reads its Kathará signature, relative to the lab file,
// when the file loads.
func TestSignatureCheck(t *testing.T) {
	dir := t.TempDir()
	sig := `{"interfaces": {"lo": {"ip_addresses": ["127.0.0.1/8"], "state": "UNKNOWN"}}, "route": [], "listening_ports": [], "processes": []}`
	if err := os.MkdirAll(filepath.Join(dir, "_test", "signature"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_test", "signature", "h1.builtin"), []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: t\nnodes:\n  h1: {image: netlab/host}\nchecks:\n  - {on: h1, signature: _test/signature/h1.builtin, timeout: 3s}\n"
	lab, err := Parse([]byte(src), filepath.Join(dir, "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ch := lab.Checks[0]
	if ch.Probe != "signature" || ch.Name != "h1 signature _test/signature/h1.builtin" || ch.Limit != 3*time.Second {
		t.Errorf("check: probe %q, name %q, limit %s", ch.Probe, ch.Name, ch.Limit)
	}
	if lo := ch.Want.Interfaces["lo"]; lo.State != "UNKNOWN" || len(lo.Addresses) != 1 {
		t.Errorf("signature read as %+v", ch.Want)
	}
}
