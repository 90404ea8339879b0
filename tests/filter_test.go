package tests

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A web server answering on port 80 and 22 (busybox httpd twice).
const twoPorts = `"mkdir -p /www && echo hi > /www/index.html && httpd -p 22 -h /www && exec httpd -f -p 80 -h /www"`

// reach tells whether node opens a TCP connection to addr:port.
func (l *lab) reach(node, addr, port string) bool {
	l.t.Helper()
	_, code := l.exec(node, "sh", "-c", "nc -w 2 "+addr+" "+port+" </dev/null")
	return code == 0
}

// waitReach waits for a server to listen, up to 5 s.
func (l *lab) waitReach(node, addr, port string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if l.reach(node, addr, port) {
			return true
		}
	}
	return false
}

func TestFirewallInputAndForward(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  inside: {subnet: 10.61.1.0/24}
  outside: {subnet: 10.61.2.0/24}
nodes:
  srv:
    interfaces: {eth0: {network: inside, address: 10.61.1.10/24}}
    gateway: 10.61.1.1
    command: `+twoPorts+`
    firewall:
      input: accept
      rules:
        - {chain: input, action: drop, proto: tcp, port: 80}
        - {chain: input, action: reject, proto: tcp, port: "8000-8100"}
  fw:
    forward: true
    interfaces:
      eth0: {network: inside, address: 10.61.1.1/24}
      eth1: {network: outside, address: 10.61.2.1/24}
    firewall:
      forward: drop
      rules:
        - {chain: forward, action: accept, proto: tcp, port: 22, from: 10.61.2.0/24, to: srv}
  out:
    interfaces: {eth0: {network: outside, address: 10.61.2.10/24}}
    gateway: 10.61.2.1
  in:
    interfaces: {eth0: {network: inside, address: 10.61.1.20/24}}
`)
	// Input: 22 open, 80 dropped, on srv's own firewall.
	if !l.waitReach("in", "10.61.1.10", "22") {
		t.Fatal("in cannot reach srv:22")
	}
	if l.reach("in", "10.61.1.10", "80") {
		t.Error("srv's firewall drops input port 80, but in reached it")
	}
	start := time.Now()
	if out, code := l.exec("in", "sh", "-c", "nc -w 5 10.61.1.10 8080 </dev/null"); code == 0 {
		t.Errorf("port 8080 is rejected, but nc succeeded: %s", out)
	} else if time.Since(start) > 3*time.Second {
		t.Errorf("a rejected port took %s to fail: want an immediate reset", time.Since(start))
	}
	// Forward: drop by policy, one flow allowed (and its replies).
	if !l.reach("out", "10.61.1.10", "22") {
		t.Error("fw allows outside -> srv:22, but out could not reach it")
	}
	if l.reaches("out", "10.61.1.10") {
		t.Error("fw's forward policy is drop, but out pinged srv")
	}
	l.mustPing("out", "10.61.2.1") // fw's own input is open
	// Idempotent: a second up changes nothing.
	if r := netlab(t, "up", l.file); r.code != 0 || strings.Contains(r.stdout+r.stderr, "done firewall:") {
		t.Errorf("a second up rewrote a firewall or failed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// netlab/tiny has no nft: read the table from the host, in fw's namespace.
	nft, err := exec.Command("nsenter", "-t", l.pid("fw"), "-n", "nft", "list", "table", "inet", "netlab-filter").CombinedOutput()
	if err != nil || !strings.Contains(string(nft), "policy drop") || !strings.Contains(string(nft), "tcp dport 22") {
		t.Errorf("fw's table in its namespace:\n%s (%v)", nft, err)
	}
}

// pid is the node's container process.
func (l *lab) pid(node string) string {
	l.t.Helper()
	if l.onRunc() {
		return strconv.Itoa(runcState(l.container(node)).Pid)
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", l.container(node)).Output()
	if err != nil {
		l.t.Fatalf("inspect %s: %v", node, err)
	}
	return strings.TrimSpace(string(out))
}

func TestIsolatedSegment(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  dmz:
    subnet: 10.62.0.0/24
    isolated: true
    allow: [{from: h1, to: h3, proto: tcp, port: 80}]
nodes:
  r: {forward: true, interfaces: {eth0: {network: dmz, address: 10.62.0.1/24}}}
  h1: {interfaces: {eth0: {network: dmz}}, gateway: 10.62.0.1}
  h2: {interfaces: {eth0: {network: dmz}}, gateway: 10.62.0.1}
  h3:
    interfaces: {eth0: {network: dmz}}
    gateway: 10.62.0.1
    command: `+twoPorts+`
`)
	addr := func(n string) string {
		out, _ := l.exec(n, "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")
		return strings.TrimSpace(out)
	}
	h1, h2, h3 := addr("h1"), addr("h2"), addr("h3")
	l.mustPing("h1", "10.62.0.1")
	l.mustPing("h2", "10.62.0.1")
	l.mustPing("r", h3)
	if l.reaches("h1", h2) || l.reaches("h2", h1) {
		t.Error("h1 and h2 are on an isolated segment but ping each other")
	}
	if !l.waitReach("h1", h3, "80") {
		t.Error("allow h1 -> h3 tcp/80, but h1 cannot reach it")
	}
	if l.reach("h1", h3, "22") || l.reach("h2", h3, "80") {
		t.Error("only h1 -> h3 tcp/80 is allowed, but another flow passed")
	}
	if l.reaches("h1", h3) {
		t.Error("h1 pinged h3: only tcp/80 is allowed")
	}
}

// The firewall-dmz lab: what must pass passes, and the rest does not.
func TestFirewallDMZLab(t *testing.T) {
	parallel(t)
	l := upBundled(t, "firewall-dmz")
	l.passChecks()
	curl := func(node, url string) string {
		out, _ := l.exec(node, "curl", "-s", "-m", "2", url)
		return strings.TrimSpace(out)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if got = curl("outsider", "http://10.10.2.10/"); got == "hello from the DMZ" {
			break
		}
	}
	if got != "hello from the DMZ" {
		t.Fatalf("outsider -> web:80 = %q", got)
	}
	if got := curl("pc", "http://10.10.2.10/"); got != "hello from the DMZ" {
		t.Errorf("pc -> web:80 = %q", got)
	}
	if got := curl("web", "http://10.10.2.20:5432/"); got != "a stand-in for PostgreSQL" {
		t.Errorf("web -> db:5432 = %q (allowed on the isolated DMZ)", got)
	}
	for _, c := range [][2]string{{"outsider", "http://10.10.2.20:5432/"}, {"pc", "http://10.10.2.20:5432/"}, {"db", "http://10.10.2.10/"}} {
		if got := curl(c[0], c[1]); got != "" {
			t.Errorf("%s -> %s passed (%q): it must not", c[0], c[1], got)
		}
	}
	l.mustPing("pc", "203.0.113.10") // masqueraded out
	l.mustPing("outsider", "203.0.113.1")
	if l.reaches("outsider", "10.10.1.10") {
		t.Error("outsider pinged pc inside")
	}
}
