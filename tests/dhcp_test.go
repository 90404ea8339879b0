package tests

import (
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var inetRe = regexp.MustCompile(`inet (\d+\.\d+\.\d+\.\d+)/(\d+).*?valid_lft (\d+)sec`)

// leased reads the DHCP address of a node's eth0 and its remaining lifetime
// (zero if it has none).
func (l *lab) leased(node string) (netip.Addr, int) {
	l.t.Helper()
	out, _ := l.exec(node, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
	m := inetRe.FindStringSubmatch(out)
	if m == nil {
		return netip.Addr{}, 0
	}
	left, _ := strconv.Atoi(m[3])
	return netip.MustParseAddr(m[1]), left
}

func inRange(a netip.Addr, first, last string) bool {
	return a.IsValid() && netip.MustParseAddr(first).Compare(a) <= 0 && a.Compare(netip.MustParseAddr(last)) <= 0
}

// Nodes take their address, default route and name server from netlab's
// DHCP servers (one in a namespace of netlab's own, one in a router)
// before their command starts, renew the lease, and keep the address when
// their container is restarted and the lab brought up again.
func TestDHCPFromNetlabServers(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan:
    subnet: 10.20.0.0/24
    dhcp: {range: [10.20.0.100, 10.20.0.199], gateway: 10.20.0.1, dns: [10.20.0.53], lease: 20s}
  far:
    subnet: 10.21.0.0/24
    dhcp: {range: [10.21.0.50, 10.21.0.60], gateway: 10.21.0.1, server: r}
nodes:
  r:
    forward: true
    interfaces:
      eth0: {network: lan, address: 10.20.0.1/24}
      eth1: {network: far}
  a:
    interfaces: {eth0: {network: lan, address: dhcp}}
    command: "{ ip -4 addr show dev eth0; ip route; cat /etc/resolv.conf; } > /tmp/at-start; exec sleep 3600"
  b:
    interfaces: {eth0: {network: lan, address: dhcp}}
  c:
    interfaces: {eth0: {network: far, address: dhcp}}
`)
	upAt := time.Now()
	a, _ := l.leased("a")
	b, _ := l.leased("b")
	c, _ := l.leased("c")
	if !inRange(a, "10.20.0.100", "10.20.0.199") || !inRange(b, "10.20.0.100", "10.20.0.199") || a == b {
		t.Fatalf("a and b leased %s and %s, want two addresses of 10.20.0.100-10.20.0.199", a, b)
	}
	if !inRange(c, "10.21.0.50", "10.21.0.60") {
		t.Fatalf("c leased %s from r, want one of 10.21.0.50-10.21.0.60", c)
	}
	// What a's command saw when it started: the lease was in place.
	start, _ := l.exec("a", "cat", "/tmp/at-start")
	for _, want := range []string{"inet " + a.String() + "/24", "default via 10.20.0.1 dev eth0", "nameserver 10.20.0.53"} {
		if !strings.Contains(start, want) {
			t.Errorf("a's command started without %q:\n%s", want, start)
		}
	}
	if out, _ := l.exec("c", "ip", "route"); !strings.Contains(out, "default via 10.21.0.1 dev eth0") {
		t.Errorf("c has no default route through r:\n%s", out)
	}
	l.mustPing("a", "10.20.0.1")
	l.mustPing("a", b.String())
	l.mustPing("a", c.String()) // through r, both ends on their DHCP default routes
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, a.String()+"/24 (dhcp)") {
		t.Errorf("status does not show a's lease %s:\n%s", a, r.stdout)
	}

	// A restarted node waits for up, asks again and gets its address back.
	l.restart("a")
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("netlab up after a restart: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if again, _ := l.leased("a"); again != a {
		t.Errorf("after a restart a leased %s, had %s", again, a)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if start, _ = l.exec("a", "cat", "/tmp/at-start"); strings.Contains(start, "inet "+a.String()) {
			break
		}
	}
	if !strings.Contains(start, "inet "+a.String()) || !strings.Contains(start, "default via 10.20.0.1") {
		t.Errorf("after a restart a's command started without its lease:\n%s", start)
	}
	l.mustPing("a", b.String())

	// b's 20 s lease is renewed at half time: its lifetime starts over.
	time.Sleep(time.Until(upAt.Add(15 * time.Second)))
	if again, left := l.leased("b"); again != b || left <= 10 {
		t.Errorf("15s into a 20s lease b holds %s for %ds more, want %s renewed (more than 10s)", again, left, b)
	}
}

// A DHCP server that is an ordinary program in a node (busybox udhcpd)
// serves a node whose interface says address: dhcp: netlab's client is a
// real DHCP client.
func TestDHCPFromUdhcpdInANode(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.30.0.0/24}
nodes:
  srv:
    interfaces: {eth0: {network: lan, address: 10.30.0.1/24}}
    command: >-
      printf 'start 10.30.0.20\nend 10.30.0.30\ninterface eth0\nlease_file /tmp/udhcpd.leases\nopt subnet 255.255.255.0\nopt router 10.30.0.1\nopt dns 10.30.0.1\nopt lease 600\n' > /tmp/udhcpd.conf &&
      touch /tmp/udhcpd.leases && exec udhcpd -f /tmp/udhcpd.conf
  h:
    interfaces: {eth0: {network: lan, address: dhcp}}
`)
	var h netip.Addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !h.IsValid(); time.Sleep(200 * time.Millisecond) {
		h, _ = l.leased("h")
	}
	if !inRange(h, "10.30.0.20", "10.30.0.30") {
		out, _ := exec.Command(netlabBin, "logs", l.name, "h").CombinedOutput()
		t.Fatalf("h leased %s from udhcpd, want one of 10.30.0.20-10.30.0.30; its log:\n%s", h, out)
	}
	if out, _ := l.exec("h", "ip", "route"); !strings.Contains(out, "default via 10.30.0.1 dev eth0") {
		t.Errorf("h has no default route from udhcpd:\n%s", out)
	}
	if out, _ := l.exec("h", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 10.30.0.1") {
		t.Errorf("h's resolv.conf lacks udhcpd's name server:\n%s", out)
	}
	l.mustPing("h", "10.30.0.1")
}
