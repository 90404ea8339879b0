package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/naming"
)

// TestHostGuard: a node reaches no service of the host, also on an
// address the host answers ARP for on the node's bridge (a listener the
// test makes on a host interface of its own) and with routes back to the
// node on the host, and not another lab's node through the host's
// routing, but its own lab's port published on that address; another
// lab's node does not reach that published port.
func TestHostGuard(t *testing.T) {
	parallel(t)
	pid := os.Getpid() % 1000000
	hostIf, peer := fmt.Sprintf("gd%dh0", pid), fmt.Sprintf("gd%dh1", pid)
	hostAddr := fmt.Sprintf("198.18.%d.%d", 100+pid%100, 1+pid/100%250)
	mustRun(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostIf).Run() })
	mustRun(t, "ip", "addr", "add", hostAddr+"/32", "dev", hostIf)
	mustRun(t, "ip", "link", "set", hostIf, "up")
	mustRun(t, "ip", "link", "set", peer, "up")
	ln, err := net.Listen("tcp", hostAddr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Write([]byte("host service\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	pub := freePort(t)

	a := upWith(t, fmt.Sprintf(`defaults: {image: netlab/tiny, cap_add: [NET_ADMIN]}
networks:
  n: {subnet: 10.77.0.0/24}
nodes:
  a1:
    command: exec sleep 600
    interfaces: {eth0: {network: n, address: 10.77.0.2/24}}
  a2:
    command: exec sh -c 'while :; do echo published | nc -l -p 8080; done'
    interfaces: {eth0: {network: n, address: 10.77.0.3/24}}
    publish: ["%s:%d:8080"]
`, hostAddr, pub), nil, "--allow-host")
	b := &lab{t: t, name: a.name + "-b"}
	b.file = writeLab(t, b.name, `defaults: {image: netlab/tiny, cap_add: [NET_ADMIN]}
networks:
  m: {subnet: 10.78.0.0/24}
nodes:
  b1:
    command: exec sleep 600
    interfaces: {eth0: {network: m, address: 10.78.0.2/24}}
`)
	t.Cleanup(b.down)
	if r := netlab(t, withRuntime([]string{"up", b.file})...); r.code != 0 {
		t.Fatalf("netlab up %s: exit %d\n%s%s", b.name, r.code, r.stdout, r.stderr)
	}
	// The host routes to both labs' nodes (routes the test adds, as a
	// host with routes to its labs would have): replies find their way,
	// so only the guard stands between a node and the host.
	brA, brB := naming.Bridge(a.name, "n"), naming.Bridge(b.name, "m")
	mustRun(t, "ip", "route", "add", "10.78.0.2/32", "dev", brB)
	t.Cleanup(func() { exec.Command("ip", "route", "del", "10.78.0.2/32", "dev", brB).Run() })
	mustRun(t, "ip", "route", "add", "10.77.0.2/32", "dev", brA)
	t.Cleanup(func() { exec.Command("ip", "route", "del", "10.77.0.2/32", "dev", brA).Run() })
	// Each node is told the host's address is on its segment: the host
	// answers its ARP (arp_ignore 0), so only the guard stands between.
	for _, n := range []struct {
		l    *lab
		node string
	}{{a, "a1"}, {b, "b1"}} {
		if out, code := n.l.exec(n.node, "ip", "route", "add", hostAddr+"/32", "dev", "eth0"); code != 0 {
			t.Fatalf("%s: route to the host: %s", n.node, out)
		}
	}
	a.exec("a1", "ping", "-c1", "-W1", hostAddr) // resolves the host's MAC
	if out, _ := a.exec("a1", "ip", "neigh", "show", hostAddr); !strings.Contains(out, "lladdr") {
		t.Errorf("the host did not answer a1's ARP for %s on its bridge, so the test proves nothing: %q", hostAddr, out)
	}
	if out, code := a.exec("a1", "nc", "-w", "2", hostAddr, fmt.Sprint(port)); code == 0 || strings.Contains(out, "host service") || accepted.Load() > 0 {
		t.Errorf("a1 reached the host's service on %s:%d (exit %d): %q", hostAddr, port, code, out)
	}
	if out, _ := a.exec("a1", "nc", "-w", "3", hostAddr, fmt.Sprint(pub)); !strings.Contains(out, "published") {
		t.Errorf("a1 did not reach its own lab's port published on %s:%d: %q", hostAddr, pub, out)
	}
	if out, _ := b.exec("b1", "nc", "-w", "2", hostAddr, fmt.Sprint(pub)); strings.Contains(out, "published") {
		t.Errorf("b1 reached another lab's port published on %s:%d", hostAddr, pub)
	}
	// Each node sends the other lab's traffic to the host.
	a.exec("a1", "ip", "route", "add", "10.78.0.2/32", "via", hostAddr, "dev", "eth0", "onlink")
	b.exec("b1", "ip", "route", "add", "10.77.0.2/32", "via", hostAddr, "dev", "eth0", "onlink")
	if a.ping("a1", "10.78.0.2") {
		t.Errorf("a1 reached another lab's node b1 through the host")
	}
	// Down takes the lab's rules; the table goes with the last lab.
	a.down()
	if out, _ := exec.Command("nft", "-a", "list", "table", "inet", "netlab-guard").CombinedOutput(); strings.Contains(string(out), brA) {
		t.Errorf("down left lab %s's guard rules:\n%s", a.name, out)
	}
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// freePort is a TCP port free on the host now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
