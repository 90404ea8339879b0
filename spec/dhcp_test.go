package spec

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Static addresses are allocated around the DHCP range, netlab's own
// server takes the highest free address, and a dhcp interface gets no
// IPv4 address allocated but a stable MAC.
func TestDHCPAllocation(t *testing.T) {
	lab, err := Parse([]byte(`
name: x
networks:
  lan:
    subnet: 10.0.0.0/29
    dhcp: {range: [10.0.0.2, 10.0.0.4], gateway: 10.0.0.1, dns: [10.0.0.1], lease: 10m}
  wan:
    subnet: 10.1.0.0/24
    dhcp: {range: [10.1.0.100, 10.1.0.199], server: r}
nodes:
  r:
    image: busybox
    interfaces:
      eth0: {network: lan, address: 10.0.0.1/29}
      eth1: {network: wan}
  a:
    image: busybox
    interfaces:
      eth0: {network: lan}
  c:
    image: busybox
    interfaces:
      eth0: {network: lan, address: [dhcp, fd00::c/64]}
      eth1: {network: wan, address: dhcp}
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lan, wan := lab.Networks["lan"].DHCP, lab.Networks["wan"].DHCP
	if got := lab.Nodes["a"].Interfaces["eth0"].Addrs; len(got) != 1 || got[0] != netip.MustParsePrefix("10.0.0.5/29") {
		t.Errorf("a:eth0 got %v, want 10.0.0.5/29 (after the range)", got)
	}
	if lan.ServerAddr != netip.MustParsePrefix("10.0.0.6/29") || lan.ServerIface != "" {
		t.Errorf("lan's server is %s on %q, want netlab's own at 10.0.0.6/29", lan.ServerAddr, lan.ServerIface)
	}
	if lan.LeaseTime != 10*time.Minute || lan.Router != netip.MustParseAddr("10.0.0.1") || len(lan.DNSAddrs) != 1 {
		t.Errorf("lan's dhcp parsed as %+v", lan)
	}
	if wan.ServerAddr != netip.MustParsePrefix("10.1.0.1/24") || wan.ServerIface != "eth1" || wan.LeaseTime != DefaultLease {
		t.Errorf("wan's server is %s on %q (lease %s), want r's 10.1.0.1/24 on eth1", wan.ServerAddr, wan.ServerIface, wan.LeaseTime)
	}
	c := lab.Nodes["c"]
	if i := c.Interfaces["eth0"]; !i.DHCP || len(i.Addrs) != 1 || !i.Addrs[0].Addr().Is6() {
		t.Errorf("c:eth0 = dhcp %v, addresses %v; want dhcp and only its IPv6 address", i.DHCP, i.Addrs)
	}
	if i := c.Interfaces["eth1"]; !i.DHCP || len(i.Addrs) != 0 || i.MAC == "" || i.MAC[:5] != "02:43" {
		t.Errorf("c:eth1 = dhcp %v, addresses %v, MAC %s; want dhcp, none, a MAC from names", i.DHCP, i.Addrs, i.MAC)
	}
	again, _ := Parse([]byte("name: x\nnetworks: {lan: {}}\nnodes: {c: {image: busybox, interfaces: {eth1: {network: lan, address: dhcp}}}}\n"), "y.yaml")
	if again.Nodes["c"].Interfaces["eth1"].MAC != c.Interfaces["eth1"].MAC {
		t.Error("the MAC of a dhcp interface depends on more than lab, node and interface names")
	}
}

// A subnet with no address left for netlab's server says so.
func TestDHCPNoServerAddress(t *testing.T) {
	_, err := Parse([]byte(`
name: x
networks:
  lan: {subnet: 10.0.0.0/30, dhcp: {range: [10.0.0.1, 10.0.0.2]}}
nodes:
  a: {image: busybox, interfaces: {eth0: {network: lan, address: dhcp}}}
`), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "no address of 10.0.0.0/30 is left for netlab's DHCP server") {
		t.Errorf("got %v", err)
	}
}
