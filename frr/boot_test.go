package frr

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/internet"
	"github.com/netlab/netlab/spec"
)

// Every line of a generated Internet's routers' frr.conf reaches a
// daemon, each section whole and in its order, and nothing else does.
func TestBootPartsHoldEveryLine(t *testing.T) {
	data, err := internet.Generate(internet.Options{ASes: 4, Routers: 2, IXPs: 1, Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := spec.Parse(data, "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	routers := 0
	for _, n := range lab.SortedNodes() {
		files := Files(n)
		if files == nil {
			continue
		}
		routers++
		conf := files[ConfPath]
		if files[BootDir+"/frr.conf"] != conf {
			t.Fatalf("%s: the parts' frr.conf is not frr.conf", n.Name)
		}
		parts := Boot(conf)
		for _, d := range []string{"zebra", "staticd", "ospfd", "bgpd"} {
			if d == "ospfd" && !strings.Contains(files[DaemonsPath], "\nospfd=yes\n") {
				continue // a route server
			}
			if files[BootDir+"/"+d+".conf"] != parts[d] || parts[d] == "" {
				t.Fatalf("%s: no part for %s", n.Name, d)
			}
			if !strings.Contains(parts[d], "\nfrr defaults traditional\n") {
				t.Errorf("%s: %s's part lacks the defaults", n.Name, d)
			}
		}
		var all []string
		for _, d := range slices.Sorted(maps.Keys(parts)) {
			all = append(all, strings.Split(parts[d], "\n")...)
		}
		for _, line := range strings.Split(conf, "\n") {
			switch trimmed := strings.TrimSpace(line); {
			case trimmed == "" || strings.HasPrefix(trimmed, "!") || trimmed == "exit" || trimmed == "line vty" ||
				strings.HasPrefix(line, "hostname ") || line == "service integrated-vtysh-config" || strings.HasPrefix(line, "interface "):
			case !slices.Contains(all, line):
				t.Errorf("%s: %q is in no daemon's part", n.Name, line)
			}
		}
		if parts["ospfd"] != "" && !strings.Contains(parts["zebra"], "interface lo\n ip address ") || strings.Contains(parts["zebra"], "ip ospf") {
			t.Errorf("%s: zebra's part:\n%s", n.Name, parts["zebra"])
		}
		if parts["ospfd"] != "" && (strings.Contains(parts["ospfd"], "router bgp") || !strings.Contains(parts["ospfd"], "router ospf\n")) {
			t.Errorf("%s: ospfd's part:\n%s", n.Name, parts["ospfd"])
		}
	}
	if routers == 0 {
		t.Fatal("no router")
	}
}

// A line that Boot does not know where to send leaves frr.conf whole, for
// vtysh.
func TestBootRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, conf := range []string{
		"frr defaults traditional\nrouter bgp 1\nexit\nip route 10.0.0.0/8 blackhole\n",
		"vrf red\nexit\n",
		"interface eth0\n description up\nexit\n",
		"router bgp 1\n neighbor 10.0.0.1 remote-as 2\n",
	} {
		if parts := Boot(conf); parts != nil {
			t.Errorf("Boot(%q) = %v, want nil", conf, parts)
		}
	}
	if f := Files(&spec.Node{Name: "r", Config: &spec.Config{FRR: "r.conf", FRRText: "router rip\n network eth0\nexit\n"}}); f[BootDir+"/ripd.conf"] != "" {
		t.Errorf("a lab's own frr.conf was cut into parts: %v", f)
	}
}
