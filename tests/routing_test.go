package tests

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// upBundled brings up a lab of labs/ under this test's own name, with env
// added to up's environment (the lab file's variables).
func upBundled(t *testing.T, name string, env ...string) *lab {
	t.Helper()
	data, err := os.ReadFile("../labs/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(data), "\nname: "+name+"\n", "\n", 1)
	if body == string(data) {
		t.Fatalf("labs/%s.yaml: no name line to replace", name)
	}
	for _, img := range []string{"netlab/host", "netlab/router"} {
		if strings.Contains(body, "image: "+img) && exec.Command("docker", "image", "inspect", img).Run() != nil {
			t.Fatalf("image %s is missing: make images builds it", img)
		}
	}
	// A renamed copy is not the bundled lab byte for byte: the test, a
	// person who read it, allows what it asks of the host.
	return upWith(t, body, env, "--allow-host")
}

// passChecks runs the lab file's own checks and wants them all to pass,
// in one of three runs: some time round trips (the wan lab's 80 ms), which
// a host busy with the other tests' labs delays now and then.
func (l *lab) passChecks() {
	l.t.Helper()
	var r result
	for i := 0; i < 3; i++ {
		if r = netlab(l.t, "check", l.file); r.code == 0 {
			return
		}
	}
	l.t.Errorf("netlab check, three times: exit %d\n%s%s", r.code, r.stdout, r.stderr)
}

// waitOutput runs cmd in node until its output matches re, for up to d, and
// returns the last output.
func (l *lab) waitOutput(node string, d time.Duration, re string, cmd ...string) string {
	l.t.Helper()
	rx := regexp.MustCompile(re)
	var out string
	for deadline := time.Now().Add(d); ; time.Sleep(500 * time.Millisecond) {
		out, _ = l.exec(node, cmd...)
		if rx.MatchString(out) {
			return out
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: %v did not print /%s/ within %s; last output:\n%s", node, cmd, re, d, out)
		}
	}
}

// hops are the addresses of a traceroute's output, in order.
func hops(out string) []string {
	var list []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && regexp.MustCompile(`^\d+$`).MatchString(f[0]) {
			list = append(list, f[1])
		}
	}
	return list
}

// OSPF: the five routers converge, traffic takes the cheap path r1-r2-r4,
// and when r2's link to r4 fails it reroutes through r3.
func TestRoutingOSPFConvergesAndReroutes(t *testing.T) {
	parallel(t)
	l := upBundled(t, "ospf")
	l.passChecks()
	l.waitOutput("r4", 60*time.Second, `(?s)(Full.*){3}`, "vtysh", "-c", "show ip ospf neighbor")
	l.waitOutput("r1", 30*time.Second, `10\.0\.5\.0/24`, "ip", "route")
	var out string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if l.ping("h1", "10.0.5.10") {
			break
		}
	}
	l.mustPing("h1", "10.0.5.10")
	// OSPF may settle on the cheap path a moment after the first routes.
	// (Routers rate-limit their ICMP errors: a hop may show * for a moment.)
	out = l.waitOutput("h1", 30*time.Second, `(?s) 1  10\.0\.1\.1 .* 2  10\.1\.12\.2 .* 3  10\.1\.24\.2 .* 4  10\.1\.45\.2 .* 5  10\.0\.5\.10 `,
		"traceroute", "-n", "-w", "1", "-q", "1", "10.0.5.10")
	if got, want := hops(out), []string{"10.0.1.1", "10.1.12.2", "10.1.24.2", "10.1.45.2", "10.0.5.10"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("h1 -> h5 takes %v, want the cheap path %v:\n%s", got, want, out)
	}
	if r := netlab(t, "link", l.name, "r2:eth1", "down"); r.code != 0 {
		t.Fatalf("netlab link %s r2:eth1 down: exit %d %s%s", l.name, r.code, r.stdout, r.stderr)
	}
	// r2 floods a router LSA without the link at once; SPF runs within seconds.
	// Through r3, and all the way: r3 and r4 may take a moment longer than r1.
	out = l.waitOutput("h1", 60*time.Second, `(?s) 2  10\.1\.13\.2 .*\n *\d+  10\.0\.5\.10 `, "traceroute", "-n", "-w", "1", "-q", "1", "10.0.5.10")
	if got := hops(out); len(got) < 3 || got[1] != "10.1.13.2" || got[len(got)-1] != "10.0.5.10" {
		t.Errorf("after r2:eth1 failed, h1 -> h5 takes %v, want via r3 (10.1.13.2):\n%s", got, out)
	}
	// Once the link is up again, the lab's checks (the cheap path) pass again.
	netlab(t, "link", l.name, "r2:eth1", "up")
	l.passChecks()
}

// RIP: every router learns every LAN, the far one at metric 3.
func TestRoutingRIPLearnsEveryLAN(t *testing.T) {
	parallel(t)
	l := upBundled(t, "rip")
	l.passChecks()
	l.waitOutput("r1", 90*time.Second, `R\(n\) 10\.0\.3\.0/24\s+10\.1\.12\.2\s+3\s`, "vtysh", "-c", "show ip rip")
	l.waitOutput("r1", 10*time.Second, `10\.0\.3\.0/24 .*via 10\.1\.12\.2 dev eth1 proto rip`, "ip", "route")
	l.waitOutput("r3", 90*time.Second, `10\.0\.1\.0/24`, "ip", "route")
	l.mustPing("h1", "10.0.3.10")
	l.mustPing("h3", "10.0.1.10")
	l.mustPing("h2", "10.0.1.10")
}

// BGP: three ASes; the customer's and the far network's prefixes cross the
// transit AS (eBGP at both edges, iBGP inside with next-hop-self).
func TestRoutingBGPAcrossThreeASes(t *testing.T) {
	parallel(t)
	l := upBundled(t, "bgp")
	l.passChecks()
	// Established sessions show their uptime and the prefixes received.
	for _, peer := range []string{`192\.0\.2\.1`, `198\.51\.100\.2`} {
		l.waitOutput("t1", 90*time.Second, `(?m)^`+peer+`\s.*\d\d:\d\d:\d\d\s+1\s`, "vtysh", "-c", "show bgp summary")
	}
	l.waitOutput("c1", 90*time.Second, `10\.20\.0\.0/24`, "ip", "route")
	l.waitOutput("f1", 90*time.Second, `10\.10\.0\.0/24`, "ip", "route")
	l.mustPing("hc", "10.20.0.10")
	l.mustPing("hf", "10.10.0.10")
	out, _ := l.exec("c1", "vtysh", "-c", "show bgp ipv4 unicast 10.20.0.0/24")
	if !strings.Contains(out, "65000 65002") {
		t.Errorf("c1's route to 10.20.0.0/24 does not cross AS 65000 then AS 65002:\n%s", out)
	}
}

// IPv6 by router advertisements: the hosts build addresses from the
// announced prefixes and reach each other through the router.
func TestRoutingIPv6SLAAC(t *testing.T) {
	parallel(t)
	l := upBundled(t, "ipv6")
	l.passChecks()
	l.waitOutput("h1", 30*time.Second, `fd00:1::42:aff:fe01:a/64 scope global dynamic`, "ip", "-6", "addr", "show", "eth0") // not tentative
	l.waitOutput("h2", 30*time.Second, `fd00:2::42:aff:fe02:a/64 scope global dynamic`, "ip", "-6", "addr", "show", "eth0") // not tentative
	l.waitOutput("h1", 30*time.Second, `default via fe80::.* proto ra`, "ip", "-6", "route")
	l.waitOutput("h2", 30*time.Second, `default via fe80::.* proto ra`, "ip", "-6", "route")
	l.mustPing("h1", "fd00:2::42:aff:fe02:a")
	l.mustPing("h1", "10.2.0.10")
}

// The static lab, staged: stage 1 passes as it comes up, stage 2 fails
// until the routes are added by hand, and so on.
func TestStaticLabStages(t *testing.T) {
	parallel(t)
	l := upBundled(t, "static")
	stage := func(s string, want int) {
		t.Helper()
		if r := netlab(t, "check", "--stage", s, l.file); r.code != want {
			t.Errorf("stage %s: exit %d, want %d\n%s%s", s, r.code, want, r.stdout, r.stderr)
		}
	}
	stage("1", 0)
	stage("2", 1)
	l.exec("r1", "ip", "route", "add", "10.0.3.0/24", "via", "10.1.12.2")
	l.exec("r2", "ip", "route", "add", "10.0.3.0/24", "via", "10.1.23.2")
	stage("2", 0)
	stage("3", 1)
	l.exec("r3", "ip", "route", "add", "10.0.1.0/24", "via", "10.1.23.1")
	l.exec("r2", "ip", "route", "add", "10.0.1.0/24", "via", "10.1.12.1")
	stage("3", 0)
}
