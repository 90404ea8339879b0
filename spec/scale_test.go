package spec

import (
	"fmt"
	"net/netip"
	"testing"
)

// HostAddr goes through the interfaces once, in any order, and finds what
// a walk in name order finds: the first IPv4 address, else the first IPv6.
func TestHostAddr(t *testing.T) {
	p := netip.MustParsePrefix
	for _, c := range []struct {
		ifaces map[string][]netip.Prefix
		want   string
	}{
		{map[string][]netip.Prefix{}, "invalid IP"},
		{map[string][]netip.Prefix{"eth1": {p("fd00::2/64")}, "eth0": {p("fd00::1/64")}}, "fd00::1"},
		{map[string][]netip.Prefix{"eth0": {p("fd00::1/64")}, "eth1": {p("fd00::2/64"), p("10.0.0.2/24")}}, "10.0.0.2"},
		{map[string][]netip.Prefix{"eth0": {p("fd00::1/64"), p("10.0.0.1/24"), p("10.0.0.9/24")}, "eth1": {p("10.0.0.2/24")}}, "10.0.0.1"},
		{map[string][]netip.Prefix{"p10": {p("10.0.0.10/30")}, "p2": {p("10.0.0.2/30")}, "p1": {p("10.0.0.1/30")}}, "10.0.0.1"},
	} {
		n := &Node{Interfaces: InterfaceMap{}}
		for name, addrs := range c.ifaces {
			n.Interfaces[name] = &Interface{Name: name, Addrs: addrs}
		}
		for range 20 { // map order varies from run to run
			if got := n.HostAddr().String(); got != c.want {
				t.Fatalf("%v: got %s, want %s", c.ifaces, got, c.want)
			}
		}
	}
}

// A router with a route per spoke of a star, next hops on its interfaces,
// dev routes and link-local next hops: the index answers as a walk would.
func TestOnLink(t *testing.T) {
	lab, err := Parse([]byte(`name: onlink
defaults: {image: netlab/tiny}
networks: {a: {}, b: {}, c: {}}
nodes:
  r:
    forward: true
    interfaces:
      eth0: {network: a, address: [10.0.0.1/24, "fd00::1/64"]}
      eth1: {network: b, address: [10.0.0.2/16]}
      eth2: {address: 192.168.9.1/30}
      eth3: {network: c, address: 172.16.0.1/32}
    routes:
      - {to: 172.16.1.0/24, dev: eth3}
      - {to: 172.17.0.0/16, via: 172.16.1.1}
      - {to: 10.9.0.0/16, via: 10.0.0.7}
      - {to: "fd01::/64", via: "fe80::1", dev: eth0}
  s1: {interfaces: {eth0: {address: 192.168.9.2/30}}, gateway: 192.168.9.1}
links:
  - [r:eth2, s1:eth0]
`), "onlink.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := lab.Nodes["r"]
	on := NewOnLink(r)
	for _, c := range []struct {
		addr, dev, want string
	}{
		{"10.0.0.7", "", "[eth0 eth1]"},
		{"10.0.0.7", "eth1", "[eth1]"},
		{"10.0.9.7", "", "[eth1]"},
		{"192.168.9.2", "", "[eth2]"},
		{"192.168.9.5", "", "[]"},
		{"fd00::9", "", "[eth0]"},
		{"172.16.0.1", "", "[eth3]"},
	} {
		if got := fmt.Sprint(on.Ifaces(netip.MustParseAddr(c.addr), c.dev)); got != c.want {
			t.Errorf("Ifaces(%s, %q) = %s, want %s", c.addr, c.dev, got, c.want)
		}
	}
	if got := on.Owner(netip.MustParseAddr("10.0.0.2")); got != "eth1" {
		t.Errorf("Owner(10.0.0.2) = %q, want eth1", got)
	}
	if !Reachable(r, netip.MustParseAddr("172.16.1.1"), "") || Reachable(r, netip.MustParseAddr("172.18.0.1"), "") {
		t.Error("Reachable: a dev route's destination is on-link, nothing else")
	}
}
