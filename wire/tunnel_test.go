package wire

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/planner"
)

// TestTunnel joins two namespaces by a veth (the network between hosts)
// and links them again by a tunnel over it: each end a VXLAN device with
// the MTU the underlay leaves, made once, remade when the other end's
// address changes, marked as netlab's, and carrying pings.
func TestTunnel(t *testing.T) {
	needRoot(t)
	a, pathA := scratchNSPath(t, "xa")
	b, _ := scratchNSPath(t, "xb")
	host, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	under := &planner.Veth{A: planner.VethEnd{Node: "a", Name: "pod0"}, B: planner.VethEnd{Node: "b", Name: "pod0"}}
	if _, err := EnsureLink(host, under, a, b); err != nil {
		t.Fatal(err)
	}
	addr := func(ns *NS, iface string, p string) {
		t.Helper()
		if _, err := EnsureAddrs(ns, &planner.Addr{Iface: iface, Addrs: []netip.Prefix{netip.MustParsePrefix(p)}}); err != nil {
			t.Fatal(err)
		}
	}
	addr(a, "pod0", "192.0.2.1/24")
	addr(b, "pod0", "192.0.2.2/24")
	ea := planner.VethEnd{Node: "a", Name: "eth1"}
	eb := planner.VethEnd{Node: "b", Name: "eth1", MAC: "02:42:0a:63:00:02"}
	ipA, ipB := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ta := Tunnel{Lab: "tt", VNI: 7, Under: "pod0", Local: ipA, Remote: ipB, Peer: eb}
	tb := Tunnel{Lab: "tt", VNI: 7, Under: "pod0", Local: ipB, Remote: ipA, Peer: ea}
	for i, want := range []bool{true, false} {
		changed, mtu, err := EnsureTunnelEnd(a, ea, ta)
		if err != nil || changed != want || mtu != 1450 {
			t.Fatalf("a's end, call %d: changed %v (want %v), MTU %d (want 1450), %v", i+1, changed, want, mtu, err)
		}
	}
	if _, _, err := EnsureTunnelEnd(b, eb, tb); err != nil {
		t.Fatal(err)
	}
	addr(a, "eth1", "10.99.0.1/24")
	addr(b, "eth1", "10.99.0.2/24")
	if out := inNS(t, pathA, "ping", "-c", "2", "-W", "2", "10.99.0.2"); !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping across the tunnel:\n%s", out)
	}
	l, err := b.Handle().LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if !madeOutside(l) || l.Attrs().HardwareAddr.String() != eb.MAC || l.Attrs().Alias != "netlab:tt:tunnel:a:eth1" {
		t.Errorf("b's end: made outside %v, MAC %s, alias %q", madeOutside(l), l.Attrs().HardwareAddr, l.Attrs().Alias)
	}
	// The other end moved: a's end is made again towards it.
	ta.Remote = netip.MustParseAddr("192.0.2.3")
	if changed, _, err := EnsureTunnelEnd(a, ea, ta); err != nil || !changed {
		t.Fatalf("a's end after b moved: changed %v, %v", changed, err)
	}
	l, err = a.Handle().LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := l.(*netlink.Vxlan); !ok || !v.Group.Equal(ta.Remote.AsSlice()) {
		t.Errorf("a's end after b moved: %#v", l)
	}
}
