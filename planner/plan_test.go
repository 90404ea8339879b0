package planner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netlab/netlab/spec"
)

func build(t testing.TB, file string) *Plan {
	t.Helper()
	lab, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFopnpPlan(t *testing.T) {
	p := build(t, "../labs/fopnp.yaml")
	if p.Count(KindCreate) != 12 || p.Count(KindStart) != 12 || p.Count(KindBridge) != 3 || p.Count(KindLink) != 4 {
		t.Fatalf("fopnp plan: %s", p.Summary())
	}
	pos := map[string]int{}
	for i, s := range p.Steps {
		pos[s.ID] = i
	}
	for _, s := range p.Steps {
		for _, d := range s.Deps {
			if pos[d] >= pos[s.ID] {
				t.Errorf("%s comes before its dependency %s", s.ID, d)
			}
		}
	}
	// A next hop behind a device route waits for that route.
	if deps := p.Step("route:isp:default").Deps; fmt.Sprint(deps) != "[route:isp:10.1.1.1/32]" {
		t.Errorf("route:isp:default waits for %v", deps)
	}
	// The node's command is released only when all of its wiring is done.
	ready := p.Step("ready:modemA").Deps
	for _, want := range []string{"addr:modemA:eth0", "addr:modemA:eth1", "nat:modemA", "route:modemA:default"} {
		if !contains(ready, want) {
			t.Errorf("ready:modemA does not wait for %s: %v", want, ready)
		}
	}
	if got := p.Step("create:isp").Container.Sysctls["net.ipv4.ip_forward"]; got != "1" {
		t.Errorf("isp forwards: ip_forward=%q", got)
	}
	if got := p.Step("create:h1").Container.Sysctls["net.ipv4.ip_forward"]; got != "0" {
		t.Errorf("h1 does not forward: ip_forward=%q", got)
	}
	if len(p.Hosts) != 12 || p.Hosts[0].Names[0] != "backbone" {
		t.Errorf("hosts: %v", p.Hosts)
	}
	if h := findHost(p, "www"); h == nil || h.Addr.String() != "10.130.1.4" || strings.Join(h.Names, " ") != "www www.example.com" {
		t.Errorf("www hosts line: %+v", h)
	}
}

func findHost(p *Plan, name string) *Host {
	for i := range p.Hosts {
		if p.Hosts[i].Names[0] == name {
			return &p.Hosts[i]
		}
	}
	return nil
}

func TestPlanIsDeterministic(t *testing.T) {
	a := build(t, "../labs/fopnp.yaml")
	for i := 0; i < 20; i++ {
		if b := build(t, "../labs/fopnp.yaml"); !reflect.DeepEqual(a.Steps, b.Steps) {
			t.Fatal("two plans of the same lab differ")
		}
	}
}

func TestPlanJSON(t *testing.T) {
	p := build(t, "../labs/nat.yaml")
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Steps []struct {
			ID   string
			Kind string
			Deps []string
			NAT  *struct{ DNAT []struct{ To string } } `json:"nat"`
		}
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range back.Steps {
		if s.ID == "nat:fw" && s.NAT != nil && len(s.NAT.DNAT) == 1 && s.NAT.DNAT[0].To == "192.168.0.10:80" {
			found = true
		}
	}
	if !found {
		t.Errorf("nat:fw with its DNAT not in JSON: %s", data)
	}
}

func TestCycleIsNamed(t *testing.T) {
	steps := map[string]*Step{
		"a": {ID: "a", Kind: KindStart, Deps: []string{"c"}},
		"b": {ID: "b", Kind: KindStart, Deps: []string{"a"}},
		"c": {ID: "c", Kind: KindStart, Deps: []string{"b"}},
		"d": {ID: "d", Kind: KindCreate},
	}
	_, err := order(steps)
	if err == nil || err.Error() != "dependency cycle: a -> c -> b -> a" {
		t.Fatalf("got %v", err)
	}
	steps["a"].Deps = []string{"z"}
	if _, err := order(steps); err == nil || !strings.Contains(err.Error(), "depends on z") {
		t.Fatalf("unknown dependency: got %v", err)
	}
}

func TestImpairmentAndAllocationInPlan(t *testing.T) {
	p := build(t, "../labs/wan.yaml")
	s := p.Step("link:ra:wan0=rb:wan0")
	if s == nil || s.Kind != KindRelay || s.Relay.Spec.Delay.String() != "40ms" || s.Relay.Spec.RateBytes != 1250000 {
		t.Fatalf("impaired link: %+v", s)
	}
	if s.Relay.Ends[0].Name != "wan0" || s.Relay.Ends[1].Node != "rb" || !strings.HasPrefix(s.Relay.Host[0].Name, "nlr") ||
		s.Relay.Host[0].Name == s.Relay.Host[1].Name || !strings.HasPrefix(s.Relay.Host[1].Alias, "netlab:wan:relay:rb:wan0") {
		t.Errorf("relay ends: %+v", s.Relay)
	}
	for _, node := range []string{"ra", "rb"} {
		if !contains(p.Step("addr:"+node+":wan0").Deps, s.ID) {
			t.Errorf("addr:%s:wan0 does not wait for the relay", node)
		}
	}
	r := build(t, "../labs/router.yaml")
	if got := fmt.Sprint(r.Step("addr:red1:eth0").Addr.Addrs); got != "[10.0.1.2/24 fd00:1::2/64]" {
		t.Errorf("red1 allocated %s", got)
	}
}

// A published port is dialled at the node's loopback, then at each of its
// addresses; a TCP and a UDP port of the same number are two steps.
func TestPublishDialsLoopbackThenAddresses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pub.yaml")
	body := `name: pub
networks: {lan: {subnet: 10.9.0.0/24}}
nodes:
  a:
    image: netlab/tiny
    interfaces:
      eth1: {network: lan}
      eth0: {address: [10.1.1.1/32, "fd00::1/64", "fe80::1/64"]}
    publish: ["5353:53/udp", "5353:53", "0.0.0.0:8080:80/tcp"]
  b:
    image: netlab/tiny
    interfaces: {eth0: {address: 10.1.1.2/32}}
    publish: ["2222:22"]
links: [[a:eth0, b:eth0]]
`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p := build(t, file)
	udp, tcp := p.Step("publish:a:5353/udp"), p.Step("publish:a:5353/tcp")
	if udp == nil || tcp == nil || udp.Publish.Proto != "udp" || tcp.Publish.Proto != "tcp" {
		t.Fatalf("publish steps: %+v %+v", udp, tcp)
	}
	if got := fmt.Sprint(udp.Publish.HostIP, udp.Publish.HostPort, udp.Publish.NodePort, udp.Publish.Dial); got != "127.0.0.1 5353 53 [127.0.0.1 ::1 10.1.1.1 fd00::1 10.9.0.1]" {
		t.Errorf("udp publish %s", got)
	}
	if got := fmt.Sprint(p.Step("publish:a:8080/tcp").Publish.Dial); got != "[127.0.0.1 ::1 10.1.1.1 fd00::1 10.9.0.1]" {
		t.Errorf("dial %s", got)
	}
	if got := fmt.Sprint(p.Step("publish:b:2222/tcp").Publish.Dial); got != "[127.0.0.1 10.1.1.2]" {
		t.Errorf("b, without IPv6, dials %s", got)
	}
}

// A DHCP server on a network's bridge runs beside the network's first
// node (on a cluster, on that node's host), once that node started; an
// isolated network's members carry their MACs, for hosts that know them
// only by those.
func TestDHCPServerBesideFirstNode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(`name: beside
defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.9.2.0/24, dhcp: {range: [10.9.2.100, 10.9.2.199]}, isolated: true}
nodes:
  z: {interfaces: {eth0: {network: lan, address: dhcp}}}
  b: {interfaces: {eth0: {network: lan, address: 10.9.2.5/24}}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := build(t, file)
	s := p.Step("dhcpd:lan")
	if s == nil || s.DHCPD.Beside != "b" || !contains(s.Deps, "start:b") {
		t.Fatalf("dhcpd:lan: %+v", s)
	}
	iso := p.Step("isolate")
	if iso == nil || len(iso.Isolate.Networks) != 1 {
		t.Fatalf("isolate: %+v", iso)
	}
	nw := iso.Isolate.Networks[0]
	if len(nw.MACs) != 2 || nw.MACs[0] != "02:42:0a:09:02:05" || nw.MACs[1] == "" {
		t.Errorf("members %v, MACs %v", nw.Members, nw.MACs)
	}
}
