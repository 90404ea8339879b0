package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const p2p = `defaults: {image: netlab/tiny}
nodes:
  a:
    interfaces: {eth0: {address: 10.1.1.1/32}}
    routes: [{to: 10.1.1.2/32, dev: eth0}]
  b:
    interfaces: {eth0: {address: 10.1.1.2/32}}
    routes: [{to: 10.1.1.1/32, dev: eth0}]
links:
  - [a:eth0, b:eth0]
`

func TestPointToPointLink(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	l.mustPing("a", "10.1.1.2")
	l.mustPing("b", "10.1.1.1")
	out, _ := l.exec("a", "ip", "link", "show", "eth0")
	if !strings.Contains(out, "02:42:0a:01:01:01") {
		t.Errorf("a:eth0 has not the MAC derived from 10.1.1.1:\n%s", out)
	}
}

func TestTwoHostsOnABridgeAndNames(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.5.0.0/24}
nodes:
  h1: {interfaces: {eth0: {network: lan}}}
  h2: {interfaces: {eth0: {network: lan}}, hostname: web.example.org}
`)
	l.mustPing("h1", "10.5.0.2")
	// Names of every node come from /etc/hosts: node name, host name, short name.
	for _, name := range []string{"h2", "web.example.org", "web"} {
		if !l.ping("h1", name) {
			t.Errorf("h1 cannot ping %s by name", name)
		}
	}
	if out, _ := l.exec("h2", "hostname"); strings.TrimSpace(out) != "web.example.org" {
		t.Errorf("h2 hostname = %q", out)
	}
}

const routed = `defaults: {image: netlab/tiny}
networks:
  red:  {subnet: 10.0.1.0/24, subnet6: "fd00:1::/64"}
  blue: {subnet: 10.0.2.0/24, subnet6: "fd00:2::/64"}
nodes:
  r1:
    forward: FORWARD
    interfaces:
      eth0: {network: red,  address: [10.0.1.1/24, "fd00:1::1/64"]}
      eth1: {network: blue, address: [10.0.2.1/24, "fd00:2::1/64"]}
  red1:
    interfaces: {eth0: {network: red}}
    gateway: [10.0.1.1, "fd00:1::1"]
  blue1:
    interfaces: {eth0: {network: blue}}
    gateway: [10.0.2.1, "fd00:2::1"]
`

func TestRouterForwardsIPv4AndIPv6(t *testing.T) {
	parallel(t)
	l := up(t, strings.Replace(routed, "FORWARD", "true", 1))
	l.mustPing("red1", "10.0.2.2")
	l.mustPing("red1", "fd00:2::2")
	l.mustPing("blue1", "10.0.1.2")
}

func TestRouterWithoutForwardingDrops(t *testing.T) {
	parallel(t)
	l := up(t, strings.Replace(routed, "FORWARD", "false", 1))
	l.mustPing("red1", "10.0.1.1") // the router itself answers
	if l.reaches("red1", "10.0.2.2") {
		t.Error("red1 reached blue1 through a router that does not forward")
	}
	if out, _ := l.exec("r1", "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(out) != "0" {
		t.Errorf("ip_forward in r1 = %q", out)
	}
}

const natLab = `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 192.168.0.0/24}
  wan: {subnet: 203.0.113.0/24}
nodes:
  fw:
    forward: true
    interfaces:
      eth0: {network: wan, address: 203.0.113.2/24}
      eth1: {network: lan, address: 192.168.0.1/24}
    nat:
      masquerade: [eth0]
      dnat: [{in: eth0, port: 8080, to: "192.168.0.10:80"}]
  server:
    interfaces: {eth0: {network: lan, address: 192.168.0.10/24}}
    gateway: 192.168.0.1
    command: WEB
  laptop:
    interfaces: {eth0: {network: lan}}
    gateway: 192.168.0.1
  outside:
    interfaces: {eth0: {network: wan, address: 203.0.113.1/24}}
    command: WEB
`

func TestNATMasqueradeAndPortForward(t *testing.T) {
	parallel(t)
	l := up(t, strings.ReplaceAll(natLab, "WEB", webServer))
	// The outside server sees the firewall's address, not the laptop's.
	if got := l.httpGet("laptop", "203.0.113.1", "80", "/cgi-bin/ip"); got != "203.0.113.2" {
		t.Errorf("outside saw the laptop as %q, want 203.0.113.2 (masquerade)", got)
	}
	// Port 8080 on the firewall's outside reaches the server inside.
	if got := l.httpGet("outside", "203.0.113.2", "8080", "/cgi-bin/ip"); got != "203.0.113.1" {
		t.Errorf("port forward: server answered %q, want the outside client 203.0.113.1", got)
	}
	// Bridges, ports, NAT and host rules are all recognised on a second up.
	if r := netlab(t, "up", l.file); !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second up of the NAT lab changed something:\n%s%s", r.stdout, r.stderr)
	}
}

func TestPublishedPortFromHostLoopback(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {}}
nodes:
  web:
    interfaces: {eth0: {network: lan, address: 10.9.0.2/24}}
    command: `+webServer+`
    publish: ["127.0.0.1:18080:80"]
`)
	getOnce := func() string {
		c, err := net.DialTimeout("tcp", "127.0.0.1:18080", 3*time.Second)
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		b, _ := io.ReadAll(c)
		return string(b)
	}
	// The server starts once its node is wired, so give it a moment.
	get := func() string {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if s := getOnce(); strings.HasSuffix(strings.TrimSpace(s), "hello") || time.Now().After(deadline) {
				return s
			}
		}
	}
	if got := get(); !strings.HasSuffix(strings.TrimSpace(got), "hello") {
		t.Fatalf("127.0.0.1:18080 answered %q", got)
	}
	r := netlab(t, "status", l.name, "--json")
	var st map[string][]struct {
		Published []string
		Gateways  []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st[l.name]) != 1 ||
		fmt.Sprint(st[l.name][0].Published) != "[127.0.0.1:18080/tcp]" || st[l.name][0].Gateways == nil {
		t.Errorf("status does not show the published port (or gateways is null):\n%s", r.stdout)
	}
	// After a restart the node has a new namespace: up repairs the wiring and
	// the forwarder follows the node.
	l.restart("web")
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("up after restart: %s%s", r.stdout, r.stderr)
	}
	if got := get(); !strings.HasSuffix(strings.TrimSpace(got), "hello") {
		t.Errorf("after restart 127.0.0.1:18080 answered %q", got)
	}
}

func TestMTU(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {mtu: 1400}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.7.0.1/24}, eth1: {address: 10.8.0.1/30, mtu: 9000}}}
  b: {interfaces: {eth0: {network: lan, address: 10.7.0.2/24}, eth1: {address: 10.8.0.2/30, mtu: 9000}}}
links: [[a:eth1, b:eth1]]
`)
	for iface, mtu := range map[string]string{"eth0": "mtu 1400", "eth1": "mtu 9000"} {
		out, _ := l.exec("a", "ip", "link", "show", iface)
		if !strings.Contains(out, mtu) {
			t.Errorf("a:%s: want %s in\n%s", iface, mtu, out)
		}
	}
	// A jumbo ping fits through the 9000-byte link, not through the bridge.
	if _, code := l.exec("a", "ping", "-c", "1", "-W", "2", "-s", "8000", "10.8.0.2"); code != 0 {
		t.Error("8000-byte ping over the 9000-MTU link failed")
	}
	l.mustPing("a", "10.7.0.2")
}

// A node's own command starts only when its address and route are in place.
func TestCommandStartsWithWiringInPlace(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes:
  a:
    interfaces: {eth0: {address: 10.1.1.1/32}}
    routes: [{to: 10.1.1.2/32, dev: eth0}]
    command: "ip addr show eth0 | grep -q 10.1.1.1/32 && ip route | grep -q '10.1.1.2 dev eth0' && echo wired > /tmp/state && exec sleep 3600; echo unwired; exit 1"
  b:
    interfaces: {eth0: {address: 10.1.1.2/32}}
links: [[a:eth0, b:eth0]]
`)
	// The command runs right after the wiring; give it a moment to write.
	var out string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, _ = l.exec("a", "cat", "/tmp/state"); strings.TrimSpace(out) == "wired" {
			return
		}
	}
	t.Fatalf("node a's command did not find its wiring: %q", out)
}

func TestUpIsIdempotentAndRepairs(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	l.stopWatcher() // up repairs by hand when no watcher runs
	r := netlab(t, "up", "--no-watch", l.file)
	if r.code != 0 || !strings.Contains(r.stdout, "is up to date") {
		t.Fatalf("second up changed something:\n%s%s", r.stdout, r.stderr)
	}
	// A restarted node gets a new namespace: its link end is gone, and so is
	// the peer's. up rebuilds exactly that.
	l.restart("b")
	if l.reaches("a", "10.1.1.2") {
		t.Fatal("a reaches b right after b's restart: the test proves nothing")
	}
	r = netlab(t, "up", "--no-watch", l.file)
	if r.code != 0 || !strings.Contains(r.stdout, "is up:") {
		t.Fatalf("up after restart:\n%s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.1.1.2")
	// A stopped node is started and rewired.
	l.stop("a")
	if r = netlab(t, "up", "--no-watch", l.file); r.code != 0 || !strings.Contains(r.stdout, "is up:") {
		t.Fatalf("up after stop:\n%s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.1.1.2")
	// A removed node is recreated.
	l.remove("a")
	if r = netlab(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("up after removal:\n%s%s", r.stdout, r.stderr)
	}
	l.mustPing("a", "10.1.1.2")
	if r = netlab(t, "up", "--no-watch", l.file); !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("up after repair is not idempotent:\n%s", r.stdout)
	}
}

func TestTwoLabsSideBySide(t *testing.T) {
	parallel(t)
	body := strings.ReplaceAll(natLab, "WEB", webServer)
	one := up(t, body)
	two := &lab{t: t, name: one.name + "b"}
	two.file = writeLab(t, two.name, body)
	t.Cleanup(func() { two.down() })
	if r := netlab(t, "up", two.file); r.code != 0 {
		t.Fatalf("second lab: %s%s", r.stdout, r.stderr)
	}
	for _, l := range []*lab{one, two} {
		l.mustPing("laptop", "192.168.0.10")
	}
	two.down()
	one.mustPing("laptop", "192.168.0.10")
	if got := one.httpGet("laptop", "203.0.113.1", "80", "/cgi-bin/ip"); got != "203.0.113.2" {
		t.Errorf("after the other lab went down, NAT answered %q", got)
	}
}

func TestDownWithoutFileLeavesNothing(t *testing.T) {
	parallel(t)
	l := up(t, strings.ReplaceAll(natLab, "WEB", webServer)+`    publish: ["127.0.0.1:18081:80"]
`)
	if left := leftovers(l.name); !strings.Contains(left, "containers") || !strings.Contains(left, "host interfaces") ||
		!strings.Contains(left, "iptables rules") || !strings.Contains(left, "forwarder ") {
		t.Fatalf("the lab does not have every kind of object the check looks for: %s", left)
	}
	os.Remove(l.file) // down works from the name alone
	l.down()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:18081", time.Second); err == nil {
		c.Close()
		t.Error("the published port still answers after down")
	}
}

func TestInterruptedUpThenDown(t *testing.T) {
	parallel(t)
	name := labName(t)
	body := "defaults: {image: netlab/tiny}\nnetworks: {lan: {}}\nnodes:\n"
	for i := 0; i < 12; i++ {
		body += "  n" + string(rune('a'+i)) + ": {interfaces: {eth0: {network: lan, address: 10.3.0." + string(rune('1'+i%9)) + string(rune('0'+i/9)) + "/24}}}\n"
	}
	file := writeLab(t, name, body)
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	gate()
	cmd := exec.Command(netlabBin, withRuntime([]string{"up", "--parallel", "2", file})...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if err == nil {
		t.Log("up finished before the interrupt; down is still checked")
	}
	l.down()
}

func TestClearErrors(t *testing.T) {
	parallel(t)
	// A missing image is named, with how to build it, and nothing is created.
	name := labName(t)
	file := writeLab(t, name, "nodes: {a: {image: netlab/nosuch}}\n")
	r := netlab(t, "up", file)
	if r.code != 1 || !strings.Contains(r.stderr, `image "netlab/nosuch" is not `) {
		t.Errorf("missing image: exit %d: %s", r.code, r.stderr)
	}
	netlab(t, "down", name)
	// An invalid lab: exit 2, nothing created.
	file = writeLab(t, name, "nodes: {a: {image: netlab/tiny, interfaces: {eth0: {network: nope}}}}\n")
	if r = netlab(t, "up", file); r.code != 2 || !strings.Contains(r.stderr, `unknown network "nope"`) {
		t.Errorf("invalid lab: exit %d: %s", r.code, r.stderr)
	}
	if left := leftovers(name); left != "" {
		t.Errorf("an invalid lab left %s", left)
	}
	// No engine: one line saying so.
	cmd := exec.Command(netlabBin, "up", writeLab(t, name, p2p))
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///nonexistent.sock")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "cannot reach the Docker engine") || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		t.Errorf("no engine: %q", out)
	}
	if left := leftovers(name); left != "" { // its lock file, once
		t.Errorf("an up that could not reach the engine left %s", left)
	}
	// Not root: one line saying so. (The lab file must be readable by nobody.)
	f, err := os.CreateTemp("", "netlab-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.WriteString("name: " + name + "\n" + p2p)
	f.Close()
	os.Chmod(f.Name(), 0o644)
	cmd = exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", netlabBin, "up", f.Name())
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), "needs root") || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		t.Errorf("not root: %q", out)
	}
}

func TestLinkImpairments(t *testing.T) {
	parallel(t)
	body := `defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {address: 10.2.0.1/30}, eth1: {address: 10.2.1.1/30}, eth2: {address: 10.2.2.1/30}}}
  b:
    interfaces: {eth0: {address: 10.2.0.2/30}, eth1: {address: 10.2.1.2/30}, eth2: {address: 10.2.2.2/30}}
    command: ["sh", "-c", "exec nc -ll -p 5001 -e dd if=/dev/zero bs=1000 count=1000"]
links:
  - {endpoints: [a:eth0, b:eth0], delay: 50ms}
  - {endpoints: [a:eth1, b:eth1], loss: 100%}
  - {endpoints: [a:eth2, b:eth2], rate: 4mbit}
`
	l := up(t, body)
	out, _ := l.exec("a", "ping", "-c", "3", "10.2.0.2")
	var low float64
	if i := strings.Index(out, "min/avg/max = "); i >= 0 {
		fmt.Sscanf(out[i+len("min/avg/max = "):], "%f", &low)
	}
	if low < 100 { // 50 ms each way
		t.Errorf("ping over a 50ms link: fastest %.1f ms, want >= 100:\n%s", low, out)
	}
	if l.reaches("a", "10.2.1.2") {
		t.Error("a ping crossed a link that loses every packet")
	}
	// Downloading 1 MB at 4 Mbit/s (500 kB/s) cannot take less than 2 s. The
	// server starts after its wiring: retry while it refuses.
	var took time.Duration
	var code int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		start := time.Now()
		out, code = l.exec("a", "sh", "-c", `nc 10.2.2.2 5001 -e sh -c "wc -c >&2" 2>&1`)
		took = time.Since(start)
		if strings.TrimSpace(out) == "1000000" || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || strings.TrimSpace(out) != "1000000" || took < 1900*time.Millisecond || took > 30*time.Second {
		t.Errorf("1 MB over a 4mbit link: got %s bytes in %s (exit %d), want all in about 2 s", strings.TrimSpace(out), took, code)
	}
	if l.ping("a", "10.2.2.2") == false {
		t.Error("the rate-limited link does not pass a ping")
	}
}

// Every teaching lab in labs/ comes up with the tiny image and passes its
// pings and its own checks.
func TestTeachingLabs(t *testing.T) {
	parallel(t)
	pings := map[string][][2]string{
		"p2p":       {{"a", "10.1.1.2"}, {"b", "10.1.1.1"}},
		"router":    {{"red1", "10.0.2.2"}, {"red1", "fd00:2::2"}, {"blue1", "10.0.1.3"}},
		"nat":       {{"laptop", "203.0.113.1"}, {"laptop", "192.168.0.10"}},
		"wan":       {{"west", "10.20.0.2"}, {"east", "10.10.0.2"}},
		"host-link": {{"client", "10.200.0.2"}, {"web", "10.200.0.1"}},
		"vlans":     {{"s1", "10.10.0.12"}, {"s1", "10.20.0.11"}, {"e1", "10.10.0.1"}},
		// pcs with addresses by DHCP reach the name server and, through NAT, www
		"dhcp-dns": {{"pc1", "10.50.0.53"}, {"pc2", "203.0.113.80"}},
	}
	for name, list := range pings {
		t.Run(name, func(t *testing.T) {
			parallel(t)
			l := upBundled(t, name)
			for _, p := range list {
				l.mustPing(p[0], p[1])
			}
			if data, err := os.ReadFile(l.file); err == nil && strings.Contains(string(data), "\nchecks:") {
				l.passChecks()
			}
		})
	}
}

func TestStatusLsExec(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	r := netlab(t, "status", l.name, "--json")
	var st map[string][]struct {
		Node       string
		State      string
		Ready      bool
		Interfaces []struct {
			Name  string
			Addrs []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("status --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	nodes := st[l.name]
	if len(nodes) != 2 || nodes[0].Node != "a" || !nodes[0].Ready || nodes[0].State != "running" ||
		len(nodes[0].Interfaces) != 1 || nodes[0].Interfaces[0].Addrs[0] != "10.1.1.1/32" {
		t.Errorf("status: %+v", nodes)
	}
	if r = netlab(t, "status", l.name); !strings.Contains(r.stdout, "10.1.1.2/32") {
		t.Errorf("status table:\n%s", r.stdout)
	}
	if r = netlab(t, "ls"); !strings.Contains(r.stdout, l.name) {
		t.Errorf("ls does not list %s:\n%s", l.name, r.stdout)
	}
	if r = netlab(t, "exec", l.name, "b", "--", "ip", "-o", "addr", "show", "eth0"); r.code != 0 || !strings.Contains(r.stdout, "10.1.1.2/32") {
		t.Errorf("exec: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Without a terminal, on one host, the command is the node's init's
	// child (its parent is PID 1), not the runtime's exec's (parent 0);
	// its exit status, output and error come back, apart.
	r = netlab(t, "exec", l.name, "a", "--", "sh", "-c", `echo parent $PPID; echo oops >&2; exit 7`)
	if r.code != 7 || r.stderr != "oops\n" || (runtime != "kubernetes" && r.stdout != "parent 1\n") {
		t.Errorf("exec through the node's init: exit %d, output %q, error %q", r.code, r.stdout, r.stderr)
	}
	if r = netlab(t, "exec", l.name, "zz"); r.code != 2 || !strings.Contains(r.stderr, `has no node "zz" (known: a, b)`) {
		t.Errorf("exec on unknown node: exit %d %s", r.code, r.stderr)
	}
}
