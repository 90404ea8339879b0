package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// listen serves "NAME\n" to whoever connects to addr, until the test ends.
func listen(t *testing.T, addr, name string) int {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name + "\n"))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// dropGuardRules deletes the rules of host link ifname from a chain of
// the host guard, to show that the guard alone stood in the way.
func dropGuardRules(t *testing.T, ifname, chain string) {
	t.Helper()
	out, err := exec.Command("nft", "-a", "list", "chain", "inet", "netlab-guard", chain).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list chain %s: %v: %s", chain, err, out)
	}
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^.*# handle (\d+)$`).FindAllStringSubmatch(string(out), -1) {
		if strings.Contains(m[0], "drop") && strings.Contains(m[0], `"`+ifname+`"`) {
			mustRun(t, "nft", "delete", "rule", "inet", "netlab-guard", chain, "handle", m[1])
			n++
		}
	}
	if n == 0 {
		t.Fatalf("host link %s has no rules in the guard's chain %s:\n%s", ifname, chain, out)
	}
}

// TestHostGuardHostLink: a host link, host access a person allowed,
// reaches the host at the link's own address, and nothing more: not a
// service on another address of the host (which the host would answer on
// any interface), and the host routes nothing from it to a network beyond
// (a namespace of the test's, with the host's FORWARD chain accepting
// it). Without the guard's rules for the link, both get through.
func TestHostGuardHostLink(t *testing.T) {
	parallel(t)
	pid := os.Getpid() % 1000000
	x := pid % 250
	ifname := hostIfName("hg")
	linkHost, linkNode := fmt.Sprintf("10.83.%d.1", x), fmt.Sprintf("10.83.%d.2", x)
	// Another address of the host's, on an interface of the test's.
	otherIf := fmt.Sprintf("gl%dd0", pid)
	other := fmt.Sprintf("198.18.%d.%d", 200+pid%50, 1+pid/50%250)
	mustRun(t, "ip", "link", "add", otherIf, "type", "veth", "peer", "name", otherIf+"p")
	t.Cleanup(func() { exec.Command("ip", "link", "del", otherIf).Run() })
	mustRun(t, "ip", "addr", "add", other+"/32", "dev", otherIf)
	mustRun(t, "ip", "link", "set", otherIf, "up")
	mustRun(t, "ip", "link", "set", otherIf+"p", "up")
	elsewhere := listen(t, other, "another address of the host")
	// A network beyond the host: a namespace the host routes to.
	ns, out, in := fmt.Sprintf("gl%d", pid), fmt.Sprintf("gl%df0", pid), fmt.Sprintf("gl%df1", pid)
	beyondHost, beyond := fmt.Sprintf("198.19.%d.1", x), fmt.Sprintf("198.19.%d.2", x)
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	mustRun(t, "ip", "link", "add", out, "type", "veth", "peer", "name", in, "netns", ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", out).Run() })
	mustRun(t, "ip", "addr", "add", beyondHost+"/30", "dev", out)
	mustRun(t, "ip", "link", "set", out, "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", beyond+"/30", "dev", in)
	mustRun(t, "ip", "-n", ns, "link", "set", in, "up")
	mustRun(t, "ip", "-n", ns, "route", "add", "default", "via", beyondHost)

	l := upWith(t, fmt.Sprintf(`defaults: {image: netlab/tiny, cap_add: [NET_ADMIN]}
nodes:
  a:
    command: exec sleep 600
    interfaces: {eth0: {address: %s/30}}
links:
  - {endpoints: [host:%s, a:eth0], host_address: %s/30}
`, linkNode, ifname, linkHost), nil, "--allow-host")
	consented := listen(t, linkHost, "the link's own address")
	// The host's own FORWARD chain (Docker's policy drops) lets the
	// link's traffic through, so that only the guard stands in the way.
	for _, dir := range []string{"-i", "-o"} {
		mustRun(t, "iptables", "-I", "FORWARD", dir, ifname, "-j", "ACCEPT")
		t.Cleanup(func() { exec.Command("iptables", "-D", "FORWARD", dir, ifname, "-j", "ACCEPT").Run() })
	}
	fwd, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	forwards := strings.TrimSpace(string(fwd)) == "1"
	if !forwards {
		t.Logf("the host does not forward IPv4 (ip_forward %s): the routing half is not tried", fwd)
	}
	for _, r := range [][]string{{other + "/32", "dev", "eth0"}, {beyond + "/32", "via", linkHost}} {
		if o, code := l.exec("a", append([]string{"ip", "route", "add"}, r...)...); code != 0 {
			t.Fatalf("a: ip route add %v: %s", r, o)
		}
	}
	if o, _ := l.exec("a", "nc", "-w", "3", linkHost, fmt.Sprint(consented)); !strings.Contains(o, "the link's own address") {
		t.Errorf("a did not reach the host at its link's address %s:%d: %q", linkHost, consented, o)
	}
	if o, code := l.exec("a", "nc", "-w", "2", other, fmt.Sprint(elsewhere)); code == 0 || strings.Contains(o, "another address") {
		t.Errorf("a reached the host on another address, %s:%d (exit %d): %q", other, elsewhere, code, o)
	}
	if forwards && l.ping("a", beyond) {
		t.Errorf("the host routed a's traffic from the host link to %s beyond it", beyond)
	}
	// Without the guard's rules for the link, both get through: the test
	// proves the guard, not a route that was missing.
	dropGuardRules(t, ifname, "hostlinks_input")
	if o, _ := l.exec("a", "nc", "-w", "3", other, fmt.Sprint(elsewhere)); !strings.Contains(o, "another address") {
		t.Errorf("without the guard's input rule a still did not reach %s:%d, so the test proves nothing: %q", other, elsewhere, o)
	}
	dropGuardRules(t, ifname, "hostlinks_forward")
	if forwards && !l.ping("a", beyond) {
		t.Errorf("without the guard's forward rules a still did not reach %s, so the test proves nothing", beyond)
	}
}

// guardRulesOf counts the host guard's rules that name interface ifname.
func guardRulesOf(t *testing.T, ifname string) int {
	t.Helper()
	n := 0
	for _, chain := range []string{"hostlinks_input", "hostlinks_forward"} {
		out, err := exec.Command("nft", "list", "chain", "inet", "netlab-guard", chain).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list chain %s: %v: %s", chain, err, out)
		}
		n += strings.Count(string(out), `"`+ifname+`"`)
	}
	return n
}

// TestHostGuardHostLinkRemoved: a host link taken out of the lab file goes
// with its guard rules at the next up, while the lab and its other host
// link (and that link's rules) stay.
func TestHostGuardHostLinkRemoved(t *testing.T) {
	parallel(t)
	x := os.Getpid() % 250
	keep, gone := hostIfName("hk"), hostIfName("hr")
	head := fmt.Sprintf("defaults: {image: netlab/tiny, command: exec sleep 600}\nnodes:\n  a: {interfaces: {eth0: {address: 10.84.%d.2/30}}}\n", x)
	keepLink := fmt.Sprintf("  - {endpoints: [host:%s, a:eth0], host_address: 10.84.%d.1/30}\n", keep, x)
	both := head + fmt.Sprintf("  b: {interfaces: {eth0: {address: 10.85.%d.2/30}}}\nlinks:\n", x) + keepLink +
		fmt.Sprintf("  - {endpoints: [host:%s, b:eth0], host_address: 10.85.%d.1/30}\n", gone, x)
	l := upWith(t, both, nil, "--allow-host")
	if k, g := guardRulesOf(t, keep), guardRulesOf(t, gone); k != 3 || g != 3 {
		t.Fatalf("the guard has %d rules for %s and %d for %s, want 3 each (input, forward in and out)", k, keep, g, gone)
	}
	// b stays, without its link to the host.
	one := head + "  b: {}\nlinks:\n" + keepLink
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+one), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := netlab(t, "up", "--allow-host", l.file); r.code != 0 {
		t.Fatalf("netlab up without the link to b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := net.InterfaceByName(gone); err == nil {
		t.Fatalf("host link %s is still on the host", gone)
	}
	if g := guardRulesOf(t, gone); g != 0 {
		t.Errorf("the removed host link %s left %d rules in the guard", gone, g)
	}
	if k := guardRulesOf(t, keep); k != 3 {
		t.Errorf("the host link %s that stays has %d rules in the guard, want 3", keep, k)
	}
}
