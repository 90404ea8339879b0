package steps

import (
	"net/netip"
	"testing"

	"github.com/netlab/netlab/planner"
)

// Every kind the planner makes has its description and its execution
// here; the golden plans (planner/testdata) pin the descriptions.
func TestEveryKind(t *testing.T) {
	for _, k := range planner.Kinds {
		if kinds[k] == nil || kinds[k].Describe == nil || kinds[k].Do == nil {
			t.Errorf("kind %s: no Describe or Do in package steps", k)
		}
	}
	if len(kinds) != len(planner.Kinds) {
		t.Errorf("%d kinds here, %d in the planner", len(kinds), len(planner.Kinds))
	}
}

func TestDescribeCutsLongLists(t *testing.T) {
	p := &planner.Publish{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, NodePort: 53, Proto: "udp"}
	for i := range 12 {
		p.Dial = append(p.Dial, netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}))
	}
	want := "publish 127.0.0.1:5353/udp -> port 53 at 10.0.0.1, else 10.0.0.2, else 10.0.0.3, else 10.0.0.4, else 10.0.0.5, " +
		"else 10.0.0.6, else 10.0.0.7, else 10.0.0.8, else 10.0.0.9, else 10.0.0.10, else 2 more"
	if got := Describe(&planner.Step{Kind: planner.KindPublish, Publish: p}); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	a := &planner.Addr{Iface: "eth0"}
	for i := range 11 {
		a.Addrs = append(a.Addrs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 1}), 24))
	}
	want = "set eth0 10.0.0.1/24 10.0.1.1/24 10.0.2.1/24 10.0.3.1/24 10.0.4.1/24 10.0.5.1/24 10.0.6.1/24 10.0.7.1/24 10.0.8.1/24 10.0.9.1/24 and 1 more, up"
	if got := Describe(&planner.Step{Kind: planner.KindAddr, Addr: a}); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
