package tests

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A lab with checks of every kind, some of which pass and some fail on
// purpose; www serves HTTP (busybox httpd), dns answers with dnsmasq.
//
//	h1 ── lan ── r1 ── far ── www, dns
const checksLab = `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.0.1.0/24}
  far: {subnet: 10.0.5.0/24}
nodes:
  h1:
    interfaces: {eth0: {network: lan, address: 10.0.1.10/24}}
    gateway: 10.0.1.1
    dns: [10.0.5.53]
  r1:
    forward: true
    interfaces:
      eth0: {network: lan, address: 10.0.1.1/24}
      eth1: {network: far, address: 10.0.5.1/24}
  www:
    hostname: www.lab
    interfaces: {eth0: {network: far, address: 10.0.5.5/24}}
    gateway: 10.0.5.1
    command: ["sh", "-c", "mkdir -p /www && echo hello from www > /www/index.html && exec httpd -f -p 80 -h /www"]
  dns:
    image: netlab/host
    interfaces: {eth0: {network: far, address: 10.0.5.53/24}}
    gateway: 10.0.5.1
    command: "dnsmasq --no-daemon --no-resolv --no-hosts --address=/www.lab/10.0.5.5 --mx-host=lab,mail.lab,10"
checks:
  - {from: h1, ping: www, stage: basic}
  - {from: h1, ping: 10.0.5.99, expect: fail, timeout: 500ms, stage: basic}
  - {from: h1, tcp: "www:80", within: 5s, stage: basic}
  - {on: h1, route: default, via: 10.0.1.1, stage: basic}
  - {on: www, address: eth0, is: 10.0.5.5/24, stage: basic}
  - {from: h1, http: "http://www.lab/", contains: hello, within: 5s}
  - {from: h1, dns: www.lab, answer: 10.0.5.5, within: 5s}
  - {from: h1, dns: lab, type: MX, answer: mail.lab, server: dns, within: 5s}
  - {from: h1, path: www, via: [r1]}
  - {from: h1, run: "ip -o addr show eth0", output: "inet 10\\.0\\.1\\.10/24"}
  - {name: nobody at .99, from: h1, ping: 10.0.5.99, timeout: 500ms, hint: "10.0.5.99 does not exist: this check fails on purpose"}
  - {from: h1, ping: www, expect: fail}
  - {from: h1, tcp: "www:81"}
  - {from: h1, http: "http://www/nosuch"}
  - {from: h1, dns: www.lab, answer: 10.0.5.6, within: 3s} # keeps asking while dnsmasq starts; then fails on the answer
  - {from: h1, path: www, via: [10.0.5.1]}
  - {on: r1, route: 10.0.9.0/24}
  - {on: h1, address: eth0, is: 10.0.1.11/24}
  - {from: h1, run: "exit 3"}
`

func TestChecks(t *testing.T) {
	parallel(t)
	name := labName(t)
	file := writeLab(t, name, checksLab)

	// Before up: the lab is not running.
	r := netlab(t, "check", file)
	if r.code != 1 || !strings.Contains(r.stderr, "lab "+name+" is not running") || r.stdout != "" {
		t.Fatalf("check before up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = netlab(t, "check", name)
	if r.code != 1 || !strings.Contains(r.stderr, "no lab "+name+" is running") {
		t.Fatalf("check by name before up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	l := up(t, checksLab)
	junit := filepath.Join(t.TempDir(), "checks.xml")
	r = netlab(t, "check", l.file, "--json", "--junit", junit)
	if r.code != 1 {
		t.Fatalf("check: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep struct {
		Lab            string
		Passed, Failed int
		Checks         []struct {
			Name, Detail, Hint string
			Passed, Error      bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	want := map[string]string{ // name -> a regular expression for the detail; passing ones first
		"h1 ping www":                     `^reply from 10\.0\.5\.5 in `,
		"h1 ping 10.0.5.99 (must fail)":   `no reply from 10\.0\.5\.99 in 500ms`,
		"h1 tcp www:80":                   `^connected to 10\.0\.5\.5:80`,
		"h1 route default via 10.0.1.1":   `^0\.0\.0\.0/0 via 10\.0\.1\.1 dev eth0`,
		"www address eth0 is 10.0.5.5/24": `^eth0 10\.0\.5\.5/24$`,
		"h1 http http://www.lab/":         `^200 OK, 15 bytes`,
		"h1 dns www.lab A 10.0.5.5":       `^A 10\.0\.5\.5 \(from 10\.0\.5\.53\)`,
		"h1 dns lab MX mail.lab":          `^MX mail\.lab\. \(from 10\.0\.5\.53\)`,
		"h1 path www via r1":              `^hops 10\.0\.1\.1 10\.0\.5\.5$`,
		`h1 run "ip -o addr show eth0"`:   `^exit 0: `,

		"nobody at .99":                   `^no reply from 10\.0\.5\.99 in 500ms$`,
		"h1 ping www (must fail)":         `^must fail, but reply from 10\.0\.5\.5`,
		"h1 tcp www:81":                   `^refused`,
		"h1 http http://www/nosuch":       `^404 Not Found, .*want status 200$`,
		"h1 dns www.lab A 10.0.5.6":       `^A 10\.0\.5\.5 \(from 10\.0\.5\.53\), want 10\.0\.5\.6 \(\d+ tries in [0-9.]+s\)$`,
		"h1 path www via 10.0.5.1":        `^hops 10\.0\.1\.1 10\.0\.5\.5; 10\.0\.5\.1 is not among them$`,
		"r1 route 10.0.9.0/24":            `^no route to 10\.0\.9\.0/24$`,
		"h1 address eth0 is 10.0.1.11/24": `^eth0 10\.0\.1\.10/24, not 10\.0\.1\.11/24$`,
		`h1 run "exit 3"`:                 `^exit 3, want 0$`,
	}
	const passing = 10
	if rep.Lab != l.name || rep.Passed != passing || rep.Failed != len(want)-passing || len(rep.Checks) != len(want) {
		t.Errorf("lab %s: %d passed, %d failed, %d checks\n%s", rep.Lab, rep.Passed, rep.Failed, len(rep.Checks), r.stdout)
	}
	for i, c := range rep.Checks {
		re, ok := want[c.Name]
		switch {
		case !ok:
			t.Errorf("unexpected check %q", c.Name)
		case c.Passed != (i < passing) || c.Error:
			t.Errorf("%s: passed %v (error %v): %s", c.Name, c.Passed, c.Error, c.Detail)
		case !regexp.MustCompile(re).MatchString(c.Detail):
			t.Errorf("%s: detail %q does not match /%s/", c.Name, c.Detail, re)
		}
		if c.Name == "nobody at .99" && !strings.Contains(c.Hint, "fails on purpose") {
			t.Errorf("%s: no hint: %+v", c.Name, c)
		}
	}

	// The same as JUnit XML.
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suite    struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit: %v\n%s", err, data)
	}
	if doc.Tests != len(want) || doc.Failures != len(want)-passing || doc.Suite.Name != l.name || len(doc.Suite.Cases) != len(want) ||
		doc.Suite.Cases[0].Failure != nil || doc.Suite.Cases[passing].Failure == nil {
		t.Errorf("junit:\n%s", data)
	}

	// The table, by the lab's name, one stage: all pass, exit 0.
	r = netlab(t, "check", l.name, "--stage", "basic")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "\n5 passed, 0 failed\n") || strings.Contains(r.stdout, "FAIL") {
		t.Errorf("check --stage basic: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The table with failures and hints.
	r = netlab(t, "check", l.file)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "\n10 passed, 9 failed\n") || !strings.Contains(r.stdout, "fails on purpose") || r.stderr != "" {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = netlab(t, "check", l.file, "--stage", "nosuch")
	if r.code != 2 || !strings.Contains(r.stderr, `no checks of stage "nosuch" (stages: basic)`) {
		t.Errorf("check --stage nosuch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A node that stopped: its checks fail with the reason.
	l.stopNow("www")
	r = netlab(t, "check", l.name, "--stage", "basic", "--json")
	if r.code != 1 || !strings.Contains(r.stdout, "node www is not running") {
		t.Errorf("check with www stopped: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
