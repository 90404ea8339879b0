package wire

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// TestSpan joins two namespaces by a veth (the network between two
// hosts), gives each the same lab network's bridge, and joins the bridges
// by a span each: made once (the VXLAN device on the bridge, the
// underlay's MTU less 50, marked as the lab's, a flooding entry to the
// other host), its entries kept to the hosts asked for, and carrying
// ARP's broadcast and pings between the bridges.
func TestSpan(t *testing.T) {
	needRoot(t)
	a, pathA := scratchNSPath(t, "sa")
	b, _ := scratchNSPath(t, "sb")
	host, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if _, err := EnsureLink(host, &planner.Veth{A: planner.VethEnd{Node: "a", Name: "eth0"}, B: planner.VethEnd{Node: "b", Name: "eth0"}}, a, b); err != nil {
		t.Fatal(err)
	}
	ipA, ipB := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	br := &planner.Bridge{Network: "lan", Name: naming.Bridge("st", "lan"), Alias: naming.BridgeAlias("st", "lan")}
	// Each bridge has a MAC of its own, fixed as netlab's are (a bridge's
	// MAC otherwise follows its ports, and would change with its span).
	for _, x := range []struct {
		ns              *NS
		under, lan, mac string
	}{{a, "192.0.2.1/24", "10.98.0.1/24", "02:00:00:98:00:01"}, {b, "192.0.2.2/24", "10.98.0.2/24", "02:00:00:98:00:02"}} {
		if _, err := EnsureAddrs(x.ns, &planner.Addr{Iface: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix(x.under)}}); err != nil {
			t.Fatal(err)
		}
		own := *br
		own.MAC = x.mac
		if _, err := EnsureBridge(x.ns.Handle(), &own); err != nil {
			t.Fatal(err)
		}
		if _, err := EnsureAddrs(x.ns, &planner.Addr{Iface: br.Name, Addrs: []netip.Prefix{netip.MustParsePrefix(x.lan)}}); err != nil {
			t.Fatal(err)
		}
	}
	sa := Span{Lab: "st", Network: "lan", Local: ipA, Peers: []netip.Addr{ipB}}
	for i, want := range []bool{true, false} {
		changed, mtu, err := EnsureSpan(a.Handle(), br.Name, sa)
		if err != nil || changed != want || mtu != 1450 {
			t.Fatalf("a's span, call %d: changed %v (want %v), MTU %d (want 1450), %v", i+1, changed, want, mtu, err)
		}
	}
	if _, _, err := EnsureSpan(b.Handle(), br.Name, Span{Lab: "st", Network: "lan", Local: ipB, Peers: []netip.Addr{ipA}}); err != nil {
		t.Fatal(err)
	}
	if out := inNS(t, pathA, "ping", "-c", "2", "-W", "2", "10.98.0.2"); !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping across the span:\n%s", out)
	}
	l, err := a.Handle().LinkByName(naming.Span("st", "lan"))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := l.(*netlink.Vxlan)
	if !ok || v.VxlanId != naming.SpanVNI("st", "lan") || l.Attrs().Alias != "netlab:st:span:lan" || l.Attrs().MasterIndex == 0 {
		t.Errorf("a's span: %#v", l)
	}
	floods := func() []string {
		t.Helper()
		neigh, err := a.Handle().NeighList(l.Attrs().Index, unix.AF_BRIDGE)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range neigh {
			if n.HardwareAddr.String() == "00:00:00:00:00:00" {
				out = append(out, n.IP.String())
			}
		}
		slices.Sort(out)
		return out
	}
	if got := floods(); !slices.Equal(got, []string{"192.0.2.2"}) {
		t.Errorf("a's flooding entries %v, want 192.0.2.2", got)
	}
	// b's host moves (a pod made again has a new address) and keeps its
	// MACs: a's span forgets what it learned behind b's old address, so
	// that a's next frames to b's MACs, which a's neighbour entry still
	// has, flood to b's new one instead of going to the old.
	ipB = netip.MustParseAddr("192.0.2.5")
	eth0, err := b.Handle().LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range []string{"192.0.2.2/24", "192.0.2.5/24"} {
		addr, _ := netlink.ParseAddr(x)
		if err := [](func(netlink.Link, *netlink.Addr) error){b.Handle().AddrDel, b.Handle().AddrAdd}[i](eth0, addr); err != nil {
			t.Fatalf("b's address %s: %v", x, err)
		}
	}
	if _, _, err := EnsureSpan(b.Handle(), br.Name, Span{Lab: "st", Network: "lan", Local: ipB, Peers: []netip.Addr{ipA}}); err != nil {
		t.Fatal(err)
	}
	sa.Peers = []netip.Addr{ipB}
	if changed, _, err := EnsureSpan(a.Handle(), br.Name, sa); err != nil || !changed {
		t.Fatalf("a's span after b moved: changed %v, %v", changed, err)
	}
	if out := inNS(t, pathA, "ping", "-c", "2", "-W", "2", "10.98.0.2"); !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping across the span after b's host moved:\n%s", out)
	}
	// Another host joins, one leaves: the entries follow.
	sa.Peers = []netip.Addr{netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.4")}
	if changed, _, err := EnsureSpan(a.Handle(), br.Name, sa); err != nil || !changed {
		t.Fatalf("a's span with other hosts: changed %v, %v", changed, err)
	}
	if got := floods(); !slices.Equal(got, []string{"192.0.2.3", "192.0.2.4"}) {
		t.Errorf("a's flooding entries %v, want 192.0.2.3 and 192.0.2.4", got)
	}
}
