package frr

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/spec"
)

// The configuration of every routing node of the course labs is pinned.
func TestConfOfLabs(t *testing.T) {
	for _, name := range []string{"ospf", "rip", "bgp"} {
		lab, err := spec.Load("../labs/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, n := range lab.SortedNodes() {
			files := Files(n)
			if files == nil {
				continue
			}
			b.WriteString("### " + n.Name + " " + ConfPath + "\n" + files[ConfPath])
		}
		golden.Check(t, "testdata/"+name+".conf", b.String())
	}
}

func TestDaemonsFollowTheConfiguration(t *testing.T) {
	d := Daemons("router bgp 65001\n!\ninterface eth0\n ipv6 ospf6 area 0\nrouter ripng\n")
	for _, want := range []string{"bgpd=yes", "ospf6d=yes", "ripngd=yes", "ospfd=no", "ripd=no", "isisd=no"} {
		if !strings.Contains(d, "\n"+want+"\n") {
			t.Errorf("daemons lacks %s:\n%s", want, d)
		}
	}
}

func TestNoFilesWithoutRouting(t *testing.T) {
	if f := Files(&spec.Node{Name: "h"}); f != nil {
		t.Errorf("a node without routing got %v", f)
	}
	f := Files(&spec.Node{Name: "r", Config: &spec.Config{FRR: "r.conf", FRRText: "router rip\n network eth0\n"}})
	if f[ConfPath] != "router rip\n network eth0\n" || !strings.Contains(f[DaemonsPath], "\nripd=yes\n") {
		t.Errorf("config.frr is not passed whole: %v", f)
	}
}

// RIP and RIPng share one writer: both sections, with every list, are pinned.
func TestRIPAndRIPngSections(t *testing.T) {
	rip := &spec.RIP{Interfaces: []string{"eth0", "eth1"}, Passive: []string{"eth1"}, Redistribute: []string{"connected", "static"}}
	n := &spec.Node{Name: "r", Routing: &spec.Routing{RIP: rip, RIPng: rip}}
	want := "!\nrouter rip\n version 2\n network eth0\n network eth1\n passive-interface eth1\n" +
		" redistribute connected\n redistribute static\nexit\n!\n" +
		"router ripng\n network eth0\n network eth1\n passive-interface eth1\n" +
		" redistribute connected\n redistribute static\nexit\n!\nline vty\n"
	if got := Conf(n); !strings.Contains(got, want) {
		t.Errorf("Conf = %q, want it to hold %q", got, want)
	}
}

// OSPF and OSPFv3 share one writer: both sections, with the router ID
// and what they redistribute, are pinned.
func TestOSPFAndOSPF6Sections(t *testing.T) {
	o := &spec.OSPF{Redistribute: []string{"connected", "static"}}
	n := &spec.Node{Name: "r", Routing: &spec.Routing{ID: netip.MustParseAddr("10.0.0.1"), OSPF: o, OSPF6: o}}
	want := "!\nrouter ospf\n ospf router-id 10.0.0.1\n redistribute connected\n redistribute static\nexit\n!\n" +
		"router ospf6\n ospf6 router-id 10.0.0.1\n redistribute connected\n redistribute static\nexit\n!\n"
	if got := Conf(n); !strings.Contains(got, want) {
		t.Errorf("Conf = %q, want it to hold %q", got, want)
	}
}
