package wire

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Pure: the NAT rules as expressions, no kernel needed.
func TestNATRules(t *testing.T) {
	post, pre := natRules(&planner.NAT{
		Masquerade: []string{"eth0"},
		DNAT:       []planner.DNAT{{In: "eth0", Proto: "tcp", Port: 8080, To: netip.MustParseAddrPort("192.168.0.10:80")}},
	})
	if len(post) != 1 || len(pre) != 1 {
		t.Fatalf("%d postrouting and %d prerouting rules", len(post), len(pre))
	}
	cmp := post[0][1].(*expr.Cmp)
	if len(cmp.Data) != 16 || !bytes.HasPrefix(cmp.Data, []byte("eth0\x00")) {
		t.Errorf("interface name not zero-padded to 16 bytes: %q", cmp.Data)
	}
	if _, ok := post[0][2].(*expr.Masq); !ok {
		t.Error("no masquerade")
	}
	nat := pre[0][len(pre[0])-1].(*expr.NAT)
	if nat.Type != expr.NATTypeDestNAT || pre[0][8].(*expr.Immediate).Data[3] != 10 || !bytes.Equal(pre[0][9].(*expr.Immediate).Data, []byte{0, 80}) {
		t.Errorf("dnat rule wrong: %+v", pre[0])
	}
}

// needRoot skips without root, unless NETLAB_E2E=1 (CI), where it fails.
func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("NETLAB_E2E") == "1" {
			t.Fatal("needs root")
		}
		t.Skip("needs root")
	}
}

// scratchNS makes a named namespace that the test removes, also on failure.
func scratchNS(t *testing.T, name string) *NS {
	ns, _ := scratchNSPath(t, name)
	return ns
}

// scratchNSPath is scratchNS, also returning the namespace's path.
func scratchNSPath(t *testing.T, name string) (*NS, string) {
	t.Helper()
	name = fmt.Sprintf("nlt%d%s", os.Getpid()%100000, name)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	path := "/var/run/netns/" + name
	ns, err := OpenNSPath(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	return ns, path
}

// inNS runs a command in the namespace at path.
func inNS(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, _ := exec.Command("nsenter", append([]string{"--net=" + path, "--"}, args...)...).CombinedOutput()
	return string(out)
}

func TestLinkAddressesRoutes(t *testing.T) {
	needRoot(t)
	a, aPath := scratchNSPath(t, "a")
	b := scratchNS(t, "b")
	host, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	v := &planner.Veth{
		A: planner.VethEnd{Node: "a", Name: "eth0", MAC: "02:42:0a:01:01:01", MTU: 1400},
		B: planner.VethEnd{Node: "b", Name: "uplink", MAC: "02:42:0a:01:01:02", MTU: 1400},
	}
	for i, want := range []bool{true, false} {
		changed, err := EnsureLink(host, v, a, b)
		if err != nil || changed != want {
			t.Fatalf("EnsureLink #%d: changed %v, %v", i+1, changed, err)
		}
	}
	la, err := a.Handle().LinkByName("eth0")
	if err != nil || la.Attrs().HardwareAddr.String() != "02:42:0a:01:01:01" || la.Attrs().MTU != 1400 {
		t.Fatalf("a:eth0 = %+v, %v", la, err)
	}
	// A lone end (its peer's namespace went away) is replaced.
	lb, _ := b.Handle().LinkByName("uplink")
	b.Handle().LinkDel(lb)
	if changed, err := EnsureLink(host, v, a, b); err != nil || !changed {
		t.Fatalf("repair: changed %v, %v", changed, err)
	}
	for _, x := range []struct {
		ns    *NS
		iface string
		addr  string
	}{{a, "eth0", "10.1.1.1/32"}, {b, "uplink", "10.1.1.2/32"}} {
		addr := &planner.Addr{Iface: x.iface, Addrs: []netip.Prefix{netip.MustParsePrefix(x.addr), netip.MustParsePrefix("fd00::" + x.addr[len(x.addr)-4:len(x.addr)-3] + "/64")}}
		for i, want := range []bool{true, false} {
			if changed, err := EnsureAddrs(x.ns, addr); err != nil || changed != want {
				t.Fatalf("EnsureAddrs %s #%d: changed %v, %v", x.iface, i+1, changed, err)
			}
		}
	}
	routes := []struct {
		ns *NS
		r  planner.Route
	}{
		{a, planner.Route{Dst: netip.MustParsePrefix("10.1.1.2/32"), Dev: "eth0"}},
		{a, planner.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Via: netip.MustParseAddr("10.1.1.2")}},
		{b, planner.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.1.1.1"), Dev: "uplink"}},
	}
	// b has no route to 10.1.1.1 yet: the default via it must fail, as the kernel says.
	if _, err := EnsureRoute(b, &routes[2].r); err == nil {
		t.Error("a next hop that is not on-link was accepted")
	}
	b2 := &planner.Route{Dst: netip.MustParsePrefix("10.1.1.1/32"), Dev: "uplink"}
	if _, err := EnsureRoute(b, b2); err != nil {
		t.Fatal(err)
	}
	for _, x := range routes {
		for i, want := range []bool{true, false} {
			if changed, err := EnsureRoute(x.ns, &x.r); err != nil || changed != want {
				t.Fatalf("EnsureRoute %v #%d: changed %v, %v", x.r, i+1, changed, err)
			}
		}
	}
	if out := inNS(t, aPath, "ip", "route"); !strings.Contains(out, "10.9.0.0/16 via 10.1.1.2 dev eth0") {
		t.Errorf("routes in a:\n%s", out)
	}
	if out := inNS(t, aPath, "busybox", "ping", "-c", "1", "-W", "2", "10.1.1.2"); !strings.Contains(out, "1 packets received") {
		t.Errorf("a cannot ping b:\n%s", out)
	}
}

// A stopped node's cables are pulled: its namespace keeps lo alone, and
// the veth's other end is gone from its peer.
func TestUnplug(t *testing.T) {
	needRoot(t)
	a := scratchNS(t, "ua")
	b := scratchNS(t, "ub")
	host, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	v := &planner.Veth{
		A: planner.VethEnd{Node: "a", Name: "eth0", MAC: "02:42:0a:01:02:01", MTU: 1500},
		B: planner.VethEnd{Node: "b", Name: "eth1", MAC: "02:42:0a:01:02:02", MTU: 1500},
	}
	if _, err := EnsureLink(host, v, a, b); err != nil {
		t.Fatal(err)
	}
	if err := Unplug(a); err != nil {
		t.Fatal(err)
	}
	names := func(ns *NS) []string {
		links, err := ns.Handle().LinkList()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range links {
			out = append(out, l.Attrs().Name)
		}
		return out
	}
	if got := names(a); len(got) != 1 || got[0] != "lo" {
		t.Errorf("a after Unplug has %v, want [lo]", got)
	}
	if got := names(b); len(got) != 1 || got[0] != "lo" {
		t.Errorf("b after a's Unplug has %v, want [lo]", got)
	}
	if err := Unplug(a); err != nil {
		t.Errorf("second Unplug: %v", err)
	}
}

func TestBridgeAndPort(t *testing.T) {
	needRoot(t)
	n := scratchNS(t, "p")
	host, _ := netlink.NewHandle()
	defer host.Close()
	br := &planner.Bridge{Network: "lan", Name: fmt.Sprintf("nlbt%d", os.Getpid()%100000), Alias: "netlab:provtest:network:lan", MAC: "02:4e:00:00:00:01"}
	t.Cleanup(func() {
		if l, err := host.LinkByName(br.Name); err == nil {
			host.LinkDel(l)
		}
	})
	for i, want := range []bool{true, false} {
		if changed, err := EnsureBridge(host, br); err != nil || changed != want {
			t.Fatalf("EnsureBridge #%d: changed %v, %v", i+1, changed, err)
		}
	}
	l, _ := host.LinkByName(br.Name)
	if l.Attrs().Alias != br.Alias || l.Attrs().HardwareAddr.String() != br.MAC || l.Attrs().OperState == netlink.OperDown && l.Attrs().Flags&1 == 0 {
		t.Errorf("bridge %+v", l.Attrs())
	}
	port := &planner.Veth{
		A:      planner.VethEnd{Name: fmt.Sprintf("nlpt%d", os.Getpid()%100000), Alias: "netlab:provtest:port:p:eth0"},
		B:      planner.VethEnd{Node: "p", Name: "eth0", MAC: "02:42:0a:00:00:02"},
		Bridge: br.Name,
	}
	for i, want := range []bool{true, false} {
		if changed, err := EnsurePort(host, port, n); err != nil || changed != want {
			t.Fatalf("EnsurePort #%d: changed %v, %v", i+1, changed, err)
		}
	}
	hp, err := host.LinkByName(port.A.Name)
	if err != nil || hp.Attrs().MasterIndex != l.Attrs().Index || hp.Attrs().Alias != port.A.Alias {
		t.Fatalf("host end %+v, %v", hp, err)
	}
	links, _ := HostLinks("provtest")
	if len(links) != 2 {
		t.Errorf("HostLinks found %d of the lab's 2 interfaces", len(links))
	}
}

// TestKilledUpLeftovers: an up killed between making a host interface and
// naming it (the kernel takes no alias with a new link) leaves a bridge or
// a port's host end without an alias; the next up finishes the bridge and
// makes the port again, rather than refusing them as not netlab's.
func TestKilledUpLeftovers(t *testing.T) {
	needRoot(t)
	n, nPath := scratchNSPath(t, "k")
	host, _ := netlink.NewHandle()
	defer host.Close()
	br := &planner.Bridge{Network: "lan", Name: fmt.Sprintf("nlbk%d", os.Getpid()%100000), Alias: "netlab:provtest:network:lan", MAC: "02:4e:00:00:00:03"}
	port := &planner.Veth{
		A:      planner.VethEnd{Name: fmt.Sprintf("nlpk%d", os.Getpid()%100000), Alias: "netlab:provtest:port:k:eth0"},
		B:      planner.VethEnd{Node: "k", Name: "eth0", MAC: "02:42:0a:00:00:03"},
		Bridge: br.Name,
	}
	t.Cleanup(func() {
		for _, name := range []string{port.A.Name, br.Name} {
			if l, err := host.LinkByName(name); err == nil {
				host.LinkDel(l)
			}
		}
	})
	// What the killed up left: a bridge and a veth into the node, unnamed.
	if err := host.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br.Name}}); err != nil {
		t.Fatal(err)
	}
	if err := host.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: port.A.Name}, PeerName: "eth0", PeerNamespace: netlink.NsFd(n.fd)}); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureBridge(host, br); err != nil {
		t.Fatalf("EnsureBridge over an unnamed bridge of its name: %v", err)
	}
	if changed, err := EnsurePort(host, port, n); err != nil || !changed {
		t.Fatalf("EnsurePort over an unnamed veth of its name: changed %v, %v", changed, err)
	}
	l, _ := host.LinkByName(br.Name)
	hp, err := host.LinkByName(port.A.Name)
	if err != nil || l.Attrs().Alias != br.Alias || hp.Attrs().Alias != port.A.Alias || hp.Attrs().MasterIndex != l.Attrs().Index {
		t.Fatalf("bridge %+v, host end %+v, %v", l.Attrs(), hp, err)
	}
	if out := inNS(t, nPath, "ip", "link", "show", "eth0"); !strings.Contains(out, "02:42:0a:00:00:03") {
		t.Errorf("the node's end was not made again:\n%s", out)
	}
	// An interface of that name with another alias stays someone else's.
	host.LinkSetAlias(hp, "mine")
	if _, err := EnsurePort(host, port, n); err == nil || !strings.Contains(err.Error(), "is not netlab's") {
		t.Errorf("EnsurePort over another's interface: %v", err)
	}
}

func TestNATInNamespace(t *testing.T) {
	needRoot(t)
	n, nPath := scratchNSPath(t, "n")
	nat := &planner.NAT{
		Masquerade: []string{"eth0"},
		DNAT:       []planner.DNAT{{In: "eth0", Proto: "tcp", Port: 8080, To: netip.MustParseAddrPort("192.168.0.10:80")}},
	}
	for i, want := range []bool{true, false} { // the second run finds the table current
		if changed, err := EnsureNAT(n, nat); err != nil || changed != want {
			t.Fatalf("EnsureNAT #%d: changed %v, %v", i+1, changed, err)
		}
	}
	// A changed configuration replaces the table rather than adding to it.
	nat.DNAT[0].Port = 8081
	if changed, err := EnsureNAT(n, nat); err != nil || !changed {
		t.Fatalf("EnsureNAT after a change: changed %v, %v", changed, err)
	}
	out := inNS(t, nPath, "nft", "list", "table", "inet", "netlab")
	if strings.Count(out, "masquerade") != 1 || !strings.Contains(out, `oifname "eth0" masquerade`) ||
		!strings.Contains(out, `iifname "eth0" tcp dport 8081 dnat ip to 192.168.0.10:80`) || strings.Contains(out, "8080") {
		t.Errorf("table in namespace:\n%s", out)
	}
	if host, _ := exec.Command("nft", "list", "tables").Output(); slices.Contains(strings.Split(string(host), "\n"), "table inet netlab") {
		t.Error("the NAT table landed in the host namespace")
	}
}

func TestHostForwardRules(t *testing.T) {
	needRoot(t)
	lab := fmt.Sprintf("provtest%d", os.Getpid()%100000)
	t.Cleanup(func() { RemoveHostForward(lab) })
	// Two bridges of the lab: one rule between them, and each in the
	// lab's interface group.
	var bridges []string
	for i := range 2 {
		name := fmt.Sprintf("nlbt%d-%d", os.Getpid()%100000, i)
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
		bridges = append(bridges, name)
	}
	for i, want := range []bool{true, false} {
		for _, br := range bridges {
			if changed, err := EnsureHostForward(lab, "lan", br); err != nil || changed != want {
				t.Fatalf("EnsureHostForward #%d of %s: changed %v, %v", i+1, br, changed, err)
			}
		}
	}
	for _, br := range bridges {
		if l, err := netlink.LinkByName(br); err != nil || l.Attrs().Group != naming.BridgeGroup(lab) {
			t.Errorf("bridge %s is not in the lab's group %#x: %v", br, naming.BridgeGroup(lab), err)
		}
	}
	// An external bridge (not one of netlab's names) keeps its group and
	// has its own rule.
	if changed, err := EnsureHostForward(lab, "ext", "nltestext0"); err != nil || !changed {
		t.Fatalf("EnsureHostForward of an external bridge: changed %v, %v", changed, err)
	}
	rules, _ := HostForwardRules(lab)
	if len(rules["iptables"]) != 2 {
		t.Fatalf("want the lab's rule and the external bridge's, got %v", rules)
	}
	if other, _ := HostForwardRules(lab + "x"); len(other) != 0 {
		t.Errorf("a lab whose name extends this one's sees its rules: %v", other)
	}
	want := len(rules["iptables"]) + len(rules["ip6tables"])
	if n, err := RemoveHostForward(lab); err != nil || n != want {
		t.Fatalf("RemoveHostForward: %d removed, want %d: %v", n, want, err)
	}
	if rules, _ := HostForwardRules(lab); len(rules) != 0 {
		t.Errorf("left: %v", rules)
	}
	// Forgotten at removal: the next up inserts the rule again.
	if changed, err := EnsureHostForward(lab, "lan", bridges[0]); err != nil || !changed {
		t.Fatalf("EnsureHostForward after removal: changed %v, %v", changed, err)
	}
	if rules, _ := HostForwardRules(lab); len(rules["iptables"]) != 1 {
		t.Errorf("after removal and up again: %v", rules)
	}
}

// The watchers' socket gets interface deletions only, and WatchBridges
// kicks for the lab's own bridge's deletion.
func TestWatchBridgesDeletionsOnly(t *testing.T) {
	needRoot(t)
	f, err := linkDeletions()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lab := fmt.Sprintf("watchtest%d", os.Getpid()%100000)
	kick := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- WatchBridges(ctx, lab, kick) }()
	name := fmt.Sprintf("nlbw%d", os.Getpid()%100000)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
	netlink.LinkSetAlias(br, naming.BridgeAlias(lab, "lan"))
	netlink.LinkSetUp(br)
	select {
	case <-kick:
		t.Fatal("a kick before the bridge was deleted")
	case <-time.After(300 * time.Millisecond):
	}
	if err := netlink.LinkDel(br); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kick:
	case <-time.After(5 * time.Second):
		t.Fatal("no kick for the lab's deleted bridge")
	}
	buf := make([]byte, 1<<16)
	f.SetReadDeadline(time.Now().Add(time.Second))
	deleted := false
	for {
		n, err := f.Read(buf)
		if err != nil {
			break
		}
		msgs, _ := syscall.ParseNetlinkMessage(buf[:n])
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_DELLINK {
				t.Errorf("the socket got message type %d, not only deletions", m.Header.Type)
			}
			deleted = true
		}
	}
	if !deleted {
		t.Error("the socket got no deletion")
	}
	cancel()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("WatchBridges: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("WatchBridges did not end with its context")
	}
}

// A node's namespace handle has a routing socket alone (NewNS), and it
// reads the namespace's links through it.
func TestNSRoutingSocketOnly(t *testing.T) {
	needRoot(t)
	ns := scratchNS(t, "rt")
	h := ns.Handle()
	if !h.SupportsNetlinkFamily(unix.NETLINK_ROUTE) || h.SupportsNetlinkFamily(unix.NETLINK_XFRM) || h.SupportsNetlinkFamily(unix.NETLINK_NETFILTER) {
		t.Fatal("the handle's sockets are not the routing one alone")
	}
	ifs, _ := ReadNS(ns)
	if len(ifs) != 0 {
		t.Errorf("a new namespace has interfaces besides lo: %+v", ifs)
	}
	if l, err := LinkByName(h, "lo"); err != nil || l == nil {
		t.Errorf("lo in the namespace: %v, %v", l, err)
	}
}

// ReadLinks reads what ReadNS does of the interfaces but their addresses.
func TestReadLinksIsReadNSWithoutAddrs(t *testing.T) {
	needRoot(t)
	ns := scratchNS(t, "rl")
	h := ns.Handle()
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "d1", MTU: 1400}, PeerName: "d0"}); err != nil {
		t.Fatal(err)
	}
	d1, _ := h.LinkByName("d1")
	h.LinkSetUp(d1)
	addr, _ := netlink.ParseAddr("10.7.0.1/24")
	if err := h.AddrAdd(d1, addr); err != nil {
		t.Fatal(err)
	}
	full, _ := ReadNS(ns)
	links := ReadLinks(ns)
	if len(full) != 2 || full[0].Name != "d0" || !slices.Equal(full[1].Addrs, []string{"10.7.0.1/24"}) {
		t.Fatalf("ReadNS: %+v", full)
	}
	for i := range full {
		full[i].Addrs, full[i].DHCP = []string{}, nil
	}
	if fmt.Sprint(full) != fmt.Sprint(links) || links[1].Addrs == nil {
		t.Errorf("ReadLinks %+v, ReadNS without addresses %+v", links, full)
	}
}
