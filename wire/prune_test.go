package wire

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/planner"
)

// PruneRoutes and PruneAddrs remove what was added by hand and nothing
// else: not the plan's routes and addresses, not the kernel's connected
// routes, not another protocol's routes, not link-local or leased addresses.
func TestPruneRoutesAddrs(t *testing.T) {
	needRoot(t)
	ns, path := scratchNSPath(t, "prune")
	run := func(args ...string) {
		t.Helper()
		if out := inNS(t, path, args...); out != "" {
			t.Fatalf("%s: %s", strings.Join(args, " "), out)
		}
	}
	for _, i := range []string{"eth0", "eth1"} {
		run("ip", "link", "add", i, "type", "veth", "peer", "name", "p"+i)
		run("ip", "link", "set", "p"+i, "up")
	}
	plan := []planner.Addr{
		{Iface: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("fd00::1/64")}},
		{Iface: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.1.1/24")}, DHCP: true},
	}
	for i := range plan {
		if _, err := EnsureAddrs(ns, &plan[i]); err != nil {
			t.Fatal(err)
		}
	}
	keep := []planner.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.0.254")},
		{Dst: netip.MustParsePrefix("10.5.0.0/16"), Dev: "eth0"},
	}
	for i := range keep {
		if _, err := EnsureRoute(ns, &keep[i]); err != nil {
			t.Fatal(err)
		}
	}
	// By hand: two routes, one a second default of another metric, a blackhole;
	// a route of another protocol; addresses, one with a lifetime (as a lease).
	run("ip", "route", "add", "10.9.0.0/16", "via", "10.0.0.2")
	run("ip", "route", "add", "default", "via", "10.0.0.3", "metric", "50")
	run("ip", "route", "add", "blackhole", "10.66.0.0/16")
	run("ip", "route", "add", "10.7.0.0/16", "via", "10.0.0.4", "proto", "ospf")
	run("ip", "route", "add", "10.8.0.0/16", "via", "10.0.0.4", "proto", "static")
	run("ip", "-6", "route", "add", "fd09::/64", "via", "fd00::2")
	run("ip", "addr", "add", "10.0.0.99/24", "dev", "eth0")
	run("ip", "addr", "add", "fd00::99/64", "dev", "eth0", "nodad")
	run("ip", "addr", "add", "10.0.1.50/24", "dev", "eth1", "valid_lft", "600", "preferred_lft", "600")

	removed, err := PruneRoutes(ns, keep, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{"10.8.0.0/16 via 10.0.0.4 dev eth0", "10.9.0.0/16 via 10.0.0.2 dev eth0", "blackhole 10.66.0.0/16",
		"default via 10.0.0.3 dev eth0", "fd09::/64 via fd00::2 dev eth0"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed routes:\n%s\nwant:\n%s", strings.Join(removed, "\n"), strings.Join(want, "\n"))
	}
	routes := inNS(t, path, "ip", "route")
	for _, r := range []string{"default via 10.0.0.254", "10.0.0.0/24 dev eth0 proto kernel", "10.5.0.0/16 dev eth0", "10.7.0.0/16 via 10.0.0.4 dev eth0 proto ospf"} {
		if !strings.Contains(routes, r) {
			t.Errorf("route %q was removed:\n%s", r, routes)
		}
	}
	if again, err := PruneRoutes(ns, keep, nil); err != nil || len(again) != 0 {
		t.Errorf("second prune removed %v, %v", again, err)
	}

	removed, err = PruneAddrs(ns, plan)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if want := []string{"10.0.0.99/24 dev eth0", "fd00::99/64 dev eth0"}; !slices.Equal(removed, want) {
		t.Errorf("removed addresses %v, want %v", removed, want)
	}
	addrs := inNS(t, path, "ip", "addr")
	for _, a := range []string{"10.0.0.1/24", "fd00::1/64", "fe80::", "10.0.1.1/24", "10.0.1.50/24"} {
		if !strings.Contains(addrs, "inet6 "+a) && !strings.Contains(addrs, "inet "+a) {
			t.Errorf("address %s was removed:\n%s", a, addrs)
		}
	}
}

// The IPv4 default route of a dhcp interface is the lease's: kept.
func TestPruneRoutesKeepsLeaseDefault(t *testing.T) {
	needRoot(t)
	ns, path := scratchNSPath(t, "prunedhcp")
	for _, args := range [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peth0"},
		{"ip", "link", "set", "peth0", "up"}, {"ip", "link", "set", "eth0", "up"},
		{"ip", "addr", "add", "10.0.1.50/24", "dev", "eth0"}, {"ip", "route", "add", "default", "via", "10.0.1.1"},
	} {
		if out := inNS(t, path, args...); out != "" {
			t.Fatalf("%v: %s", args, out)
		}
	}
	removed, err := PruneRoutes(ns, nil, []string{"eth0"})
	if err != nil || len(removed) != 0 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	if removed, err = PruneRoutes(ns, nil, nil); err != nil || len(removed) != 1 {
		t.Fatalf("without dhcp: removed %v, %v", removed, err)
	}
}
