package tests

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const convergeBefore = `defaults: {image: netlab/tiny}
networks: {lan: {}, old: {}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.61.0.1/24}}, command: "sleep 100000"}
  b: {interfaces: {eth0: {network: lan, address: 10.61.0.2/24}}}
  c: {interfaces: {eth0: {network: lan, address: 10.61.0.3/24}, eth1: {network: old, address: 10.62.0.3/24}}}
`

const convergeAfter = `defaults: {image: netlab/tiny}
networks: {lan: {}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.61.0.1/24}}, command: "sleep 100000"}
  b: {interfaces: {eth0: {network: lan, address: 10.61.0.5/24}}}
  d: {interfaces: {eth0: {network: lan, address: 10.61.0.4/24}}}
`

// TestConverge edits a running lab's file (remove node c and network old,
// change b's address, add node d) and checks that up --dry-run prints that
// and changes nothing, that up then does it, and that node a keeps its
// container and processes.
func TestConverge(t *testing.T) {
	parallel(t)
	l := up(t, convergeBefore)
	sleepStart := func() string {
		out, code := l.exec("a", "sh", "-c", "cat /proc/$(pidof sleep)/stat")
		if code != 0 {
			t.Fatalf("read a's sleep: exit %d: %s", code, out)
		}
		f := strings.Fields(out[strings.LastIndex(out, ")")+1:])
		return f[0] + " " + f[19] // state and start time
	}
	before := sleepStart()
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+convergeAfter), 0o644); err != nil {
		t.Fatal(err)
	}

	r := netlab(t, "up", "--dry-run", l.file)
	if r.code != 0 {
		t.Fatalf("up --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"remove | node c", "remove | address b:eth0 | 10.61.0.2/24", "remove | network old",
		"create | node d", "add | address b:eth0 | 10.61.0.5/24"} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("up --dry-run does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "node a") {
		t.Errorf("up --dry-run would change node a:\n%s", r.stdout)
	}
	if !l.exists("c") {
		t.Errorf("up --dry-run removed c's container")
	}
	if l.exists("d") {
		t.Errorf("up --dry-run created d's container")
	}
	if r := netlab(t, "diff", "--json", l.file); r.code != 0 || !strings.Contains(r.stdout, `"action": "remove"`) {
		t.Errorf("diff --json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = netlab(t, "up", l.file)
	if r.code != 0 {
		t.Fatalf("up on the edited file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"removed node c", "removed address b:eth0 10.61.0.2/24", "removed network old"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("up does not say %q:\n%s", want, r.stdout)
		}
	}
	if l.exists("c") {
		t.Errorf("c's container is still there")
	}
	if out, _ := exec.Command("ip", "-d", "link", "show").Output(); strings.Contains(string(out), "netlab:"+l.name+":network:old") ||
		strings.Contains(string(out), "netlab:"+l.name+":port:c:") {
		t.Errorf("network old's bridge or c's ports are still on the host")
	}
	out, _ := l.exec("b", "ip", "-4", "-o", "addr", "show", "eth0")
	if !strings.Contains(out, "10.61.0.5/24") || strings.Contains(out, "10.61.0.2/") {
		t.Errorf("b's addresses after up: %s", out)
	}
	l.mustPing("d", "10.61.0.1")
	l.mustPing("a", "10.61.0.5")
	if after := sleepStart(); after != before {
		t.Errorf("node a's process changed: %s, then %s", before, after)
	}
	// a was kept, and its /etc/hosts names the lab as the file has it now.
	hosts, _ := l.exec("a", "cat", "/etc/hosts")
	if !strings.Contains(hosts, "10.61.0.5\tb\n") || !strings.Contains(hosts, "\td\n") || strings.Contains(hosts, "\tc\n") {
		t.Errorf("a's /etc/hosts after the edit:\n%s", hosts)
	}

	r = netlab(t, "up", l.file)
	if r.code != 0 || strings.Contains(r.stdout, "removed") || !strings.Contains(r.stdout, "up to date") {
		t.Errorf("second up is not idempotent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "diff", l.file); r.code != 0 || !strings.Contains(r.stdout, "would change nothing") {
		t.Errorf("diff after up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestConvergeRecreate changes a node's command: up makes its container
// again, and only that one.
func TestConvergeRecreate(t *testing.T) {
	parallel(t)
	l := up(t, convergeAfter)
	id := func(node string) string {
		return l.id(node)
	}
	a, b := id("a"), id("b")
	edited := strings.Replace(convergeAfter, "sleep 100000", "sleep 200000", 1)
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r := netlab(t, "diff", l.file)
	if !strings.Contains(squeeze(r.stdout), "recreate | node a") || !strings.Contains(r.stdout, "command") {
		t.Errorf("diff does not make a again:\n%s%s", r.stdout, r.stderr)
	}
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if id("a") == a || id("b") != b {
		t.Errorf("up made again: a %v, b %v (want a only)", id("a") != a, id("b") != b)
	}
	if out, _ := l.exec("a", "pidof", "sleep"); strings.TrimSpace(out) == "" {
		t.Errorf("a does not run its new command")
	}
	l.mustPing("a", "10.61.0.4")
}

// TestConvergeCollision brings up a second file with the same lab name:
// refused, nothing created.
func TestConvergeCollision(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes: {a: {}}
`)
	other := writeLab(t, l.name, `defaults: {image: netlab/tiny}
nodes: {z: {}}
`)
	r := netlab(t, "up", other)
	want := "lab " + l.name + " is up from " + l.file + "; bring it down first (netlab down " + l.name + ") or rename it"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("up of another file of the same name: exit %d, want 1 and %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if l.exists("z") {
		t.Errorf("the refused up created z's container")
	}
	if r := netlab(t, "up", "--dry-run", other); r.code != 1 {
		t.Errorf("up --dry-run of another file of the same name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// squeeze collapses runs of spaces and draws column rules as "|", so
// that a table's cells read "a | b".
func squeeze(s string) string {
	s = strings.ReplaceAll(s, "│", "|")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

// up takes away the nftables tables the file no longer asks for: a node's
// NAT and firewall tables, the lab's isolation table.
func TestConvergeDropsTables(t *testing.T) {
	parallel(t)
	with := `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.69.0.0/24, isolated: true}
  wan: {subnet: 10.70.0.0/24}
nodes:
  r:
    forward: true
    interfaces: {eth0: {network: lan, address: 10.69.0.1/24}, eth1: {network: wan, address: 10.70.0.1/24}}
    nat: {masquerade: [eth1]}
    firewall: {forward: drop}
  h: {interfaces: {eth0: {network: lan}}, gateway: 10.69.0.1}
`
	l := up(t, with)
	without := strings.NewReplacer(", isolated: true", "", "    nat: {masquerade: [eth1]}\n", "", "    firewall: {forward: drop}\n", "").Replace(with)
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+without), 0o644); err != nil {
		t.Fatal(err)
	}
	r := netlab(t, "up", l.file)
	for _, want := range []string{"removed isolation table bridge netlab-" + l.name, "removed node r: NAT table inet netlab ", "removed node r: firewall table inet netlab-filter"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("up after the edit lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	out, _ := exec.Command("nsenter", "-t", l.pid("r"), "-n", "nft", "list", "tables").CombinedOutput()
	if strings.Contains(string(out), "netlab") {
		t.Errorf("r keeps netlab's tables:\n%s", out)
	}
	if r := netlab(t, "up", l.file); strings.Contains(r.stdout, "removed") {
		t.Errorf("a second up removed more:\n%s", r.stdout)
	}
}

// TestConvergeRoutesAndLinks drops a static route and a link between two
// kept nodes from the file: up removes both, and leaves the route a
// student added by hand. A bridge port deleted on the host shows in
// status as a missing interface, and up remakes it.
func TestConvergeRoutesAndLinks(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.73.0.0/24}}
nodes:
  a:
    interfaces: {eth0: {address: 10.71.0.1/30}, eth1: {address: 10.72.0.1/30}, eth2: {network: lan}}
    routes: [{to: 10.91.0.0/16, via: 10.71.0.2}, {to: 10.92.0.0/16, via: 10.72.0.2}]
  b: {interfaces: {eth0: {address: 10.71.0.2/30}, eth1: {network: lan}}}
  c: {interfaces: {eth0: {address: 10.72.0.2/30}}}
links:
  - [a:eth0, b:eth0]
  - [a:eth1, c:eth0]
`)
	l.stopWatcher()
	if out, code := l.exec("a", "ip", "route", "add", "10.95.0.0/16", "via", "10.71.0.2"); code != 0 {
		t.Fatalf("a student's route: %s", out)
	}
	edited := `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.73.0.0/24}}
nodes:
  a:
    interfaces: {eth0: {address: 10.71.0.1/30, mac: "02:00:0a:47:00:01", mtu: 1400}, eth2: {network: lan}}
    routes: [{to: 10.91.0.0/16, via: 10.71.0.2}]
  b: {interfaces: {eth0: {address: 10.71.0.2/30}, eth1: {network: lan}}}
  c: {}
links:
  - [a:eth0, b:eth0]
`
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r := netlab(t, "up", "--dry-run", l.file)
	for _, want := range []string{"remove | route a | 10.92.0.0/16 via 10.72.0.2 dev eth1", "remove | interface a:eth1", "remove | interface c:eth0",
		"set | interface a:eth0 | eth0 | mac 02:00:0a:47:00:01 (now", "set | interface a:eth0 | eth0 | mtu 1400 (now 1500)"} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("up --dry-run does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "10.95.0.0") {
		t.Errorf("up --dry-run would touch the student's route:\n%s", r.stdout)
	}
	if r := netlab(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("up on the edited file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	routes, _ := l.exec("a", "ip", "route")
	if strings.Contains(routes, "10.92.0.0") || !strings.Contains(routes, "10.91.0.0/16 via 10.71.0.2") || !strings.Contains(routes, "10.95.0.0/16 via 10.71.0.2") {
		t.Errorf("a's routes after up (want 10.91 and the student's 10.95, not 10.92):\n%s", routes)
	}
	if out, _ := l.exec("a", "ip", "link", "show", "eth1"); !strings.Contains(out, "not exist") && !strings.Contains(out, "can't find") {
		t.Errorf("a:eth1 is still there: %s", out)
	}
	if out, _ := l.exec("a", "ip", "link", "show", "eth0"); !strings.Contains(out, "02:00:0a:47:00:01") || !strings.Contains(out, "mtu 1400") {
		t.Errorf("a:eth0 did not take the file's new MAC and MTU: %s", out)
	}
	if out, _ := l.exec("c", "ip", "-o", "link"); strings.Contains(out, "eth0") {
		t.Errorf("c:eth0 is still there: %s", out)
	}
	if r := netlab(t, "diff", l.file); !strings.Contains(r.stdout, "would change nothing") {
		t.Errorf("diff after up:\n%s%s", r.stdout, r.stderr)
	}

	// b:eth1's host end deleted: the node end goes with it.
	port := ""
	out, _ := exec.Command("sh", "-c", "ip -o link show | grep -o 'nlp[0-9a-f]*' | sort -u").Output()
	for _, p := range strings.Fields(string(out)) {
		if alias, _ := os.ReadFile("/sys/class/net/" + p + "/ifalias"); strings.HasPrefix(string(alias), "netlab:"+l.name+":port:b:eth1") {
			port = p
		}
	}
	if port == "" {
		t.Fatal("b:eth1's host end not found")
	}
	ipCmd(t, "link", "del", port)
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "eth1 (missing") {
		t.Errorf("status does not report b:eth1 missing:\n%s", r.stdout)
	}
	if r := netlab(t, "up", "--no-watch", l.file); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "status", l.name); strings.Contains(r.stdout, "missing") {
		t.Errorf("status after up still reports a missing interface:\n%s", r.stdout)
	}
	if out, code := l.exec("b", "ip", "link", "show", "eth1"); code != 0 {
		t.Errorf("b:eth1 not remade: %s", out)
	}
}

// up follows an edited published port, NAT rule and link impairment:
// the old forwarder goes and the new one answers, the NAT table holds the
// new rule only, the relay runs the new delay, and no node is made again.
func TestConvergePublishNATAndImpairment(t *testing.T) {
	parallel(t)
	before := `defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.78.0.0/24}}
nodes:
  r:
    forward: true
    interfaces: {eth0: {network: lan, address: 10.78.0.1/24}, wan: {address: 10.79.0.1/30}}
    nat: {masquerade: [wan]}
  w:
    interfaces: {eth0: {network: lan, address: 10.78.0.10/24}}
    gateway: 10.78.0.1
    command: "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www"
    publish: ["127.0.0.1:24191:80"]
  x: {interfaces: {p0: {address: 10.79.0.2/30}}}
links:
  - {endpoints: [r:wan, x:p0], delay: 10ms}
`
	l := up(t, before)
	after := strings.NewReplacer("127.0.0.1:24191:80", "127.0.0.1:24192:80",
		"nat: {masquerade: [wan]}", `nat: {dnat: [{in: wan, proto: tcp, port: 8080, to: "10.78.0.10:80"}]}`,
		"delay: 10ms", "delay: 30ms").Replace(before)
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+after), 0o644); err != nil {
		t.Fatal(err)
	}
	r := netlab(t, "up", l.file)
	if r.code != 0 {
		t.Fatalf("up after the edit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "removed node") || strings.Contains(r.stdout, "to make again") {
		t.Errorf("up made a node again for a published port, NAT or impairment:\n%s", r.stdout)
	}
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(body, "hi"); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://127.0.0.1:24192/"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		}
	}
	if !strings.Contains(body, "hi") {
		t.Errorf("the new published port does not answer: %q", body)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:24191", time.Second); err == nil {
		c.Close()
		t.Errorf("the old published port still answers")
	}
	nat, _ := exec.Command("nsenter", "-t", l.pid("r"), "-n", "nft", "list", "table", "inet", "netlab").CombinedOutput()
	if strings.Contains(string(nat), "masquerade") || !strings.Contains(string(nat), "dport 8080") {
		t.Errorf("r's NAT table after the edit:\n%s", nat)
	}
	if s := l.httpGet("x", "10.79.0.1", "8080", "/"); !strings.Contains(s, "hi") {
		t.Errorf("x does not reach w through r's new port forward: %q", s)
	}
	if st := netlab(t, "status", l.name); !strings.Contains(st.stdout, "delay 30ms") {
		t.Errorf("status does not show the new delay:\n%s", st.stdout)
	}
	if r := netlab(t, "diff", l.file); !strings.Contains(r.stdout, "would change nothing") {
		t.Errorf("diff after up:\n%s%s", r.stdout, r.stderr)
	}
}
