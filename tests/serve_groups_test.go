package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// groupsLab is a class-wide lab of two groups: each a router and a host,
// the routers joined, static routes between them.
const groupsLab = `name: shared
defaults: {image: netlab/tiny}
nodes:
  r1:
    group: "1"
    forward: true
    interfaces: {eth0: {address: 10.9.0.1/30}, eth1: {address: 10.9.1.1/24}}
    routes: [{to: 10.9.2.0/24, via: 10.9.0.2}]
  h1: {group: "1", gateway: 10.9.1.1, interfaces: {eth0: {address: 10.9.1.2/24}}}
  r2:
    group: "2"
    forward: true
    interfaces: {eth0: {address: 10.9.0.2/30}, eth1: {address: 10.9.2.1/24}}
    routes: [{to: 10.9.1.0/24, via: 10.9.0.1}]
  h2: {group: "2", gateway: 10.9.2.1, interfaces: {eth0: {address: 10.9.2.2/24}}}
links:
  - [r1:eth0, r2:eth0]
  - [r1:eth1, h1:eth0]
  - [r2:eth1, h2:eth0]
`

// TestServeSharedLabInBrowser: a class shares one lab (class create
// --shared); the teacher starts it from the page; a student of group 1
// sees her group's nodes with controls and group 2's without, pings group
// 2's host from her host's terminal, cannot open a terminal on group 2's
// host (404), and runs the connectivity matrix on the page.
func TestServeSharedLabInBrowser(t *testing.T) {
	parallel(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("no chromium: scripts/setup.sh installs it (apt-get install chromium)")
	}
	srv := startServe(t)
	srv.class = labPrefix + "grp" // its cleanup downs this class's labs
	shots := artifacts(t)
	dir := t.TempDir()
	file, roster := filepath.Join(dir, "shared.yaml"), filepath.Join(dir, "roster.csv")
	os.WriteFile(file, []byte(groupsLab), 0o644)
	os.WriteFile(roster, []byte("name,group\ncarl,1\ndana,2\n"), 0o644)
	out := netlab(t, "class", "create", srv.class, "--lab", file, "--roster", roster, "--shared", "--data", srv.data, "--url", srv.url)
	links := map[string]string{}
	var labName string
	for _, line := range strings.Split(strings.TrimSpace(out.stdout), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) == 3 {
			links[f[0]], labName = f[2], f[1]
		}
	}
	if links["carl"] == "" || links["dana"] == "" || !strings.HasPrefix(labName, srv.class+"-shared-") || !strings.Contains(out.stdout, "one lab shared by its groups") {
		t.Fatalf("class create --shared printed:\n%s", out.stdout)
	}

	teacher := browser(t, chromium)
	all := `['r1','h1','r2','h2'].every(n => document.querySelector('[data-node='+n+'] .state').textContent.startsWith('● running'))`
	run(t, teacher, "the teacher logs in and starts the shared lab",
		chromedp.Navigate(srv.url),
		chromedp.WaitVisible(css(`#login-name`)),
		chromedp.SendKeys(css(`#login-name`), "teach"),
		chromedp.SendKeys(css(`#login-password`), srv.password),
		chromedp.Click(css(`#login-submit`)),
		chromedp.WaitVisible(css(fmt.Sprintf(`a.lab-link[data-lab=%q]`, labName))),
		chromedp.Click(css(fmt.Sprintf(`a.lab-link[data-lab=%q]`, labName))),
		chromedp.WaitVisible(css(`#btn-up`)),
		chromedp.Click(css(`#btn-up`)),
		until(all, 4*time.Minute))

	carl := browser(t, chromium)
	var labID string
	var hasUp, r2Term bool
	run(t, carl, "carl, of group 1, opens the shared lab: his group's nodes have controls, group 2's none",
		chromedp.Navigate(links["carl"]),
		chromedp.WaitVisible(css(`a.lab-link`)),
		eval(`document.querySelector('a.lab-link').getAttribute('href').split('/').pop()`, &labID),
		chromedp.Click(css(`a.lab-link`)),
		chromedp.WaitVisible(css(`#my-group`)),
		until(all, 10*time.Second),
		eval(`!!document.querySelector('#btn-up')`, &hasUp),
		eval(`!!document.querySelector('button[data-term=r2]')`, &r2Term))
	if hasUp || r2Term {
		t.Errorf("carl's page: a Start button %v, a terminal button on group 2's r2 %v; want neither", hasUp, r2Term)
	}
	run(t, carl, "carl pings group 2's host from h1's terminal",
		chromedp.Click(css(`button[data-term=h1]`)),
		until(`document.querySelector('.term[data-terminal=h1] .xterm-rows') && document.querySelector('.term[data-terminal=h1] .xterm-rows').textContent.includes('#')`, 90*time.Second),
		typeLine(`.term[data-terminal=h1] .xterm-screen`, "ping -c1 10.9.2.2"),
		until(`/1 packets received/.test(document.querySelector('.term[data-terminal=h1] .xterm-rows').textContent)`, 60*time.Second))
	var status int
	run(t, carl, "group 2's host's terminal is not carl's",
		eval(fmt.Sprintf(`fetch('/api/labs/%s/nodes/h2/terminal').then(r => r.status)`, labID), &status, chromedp.EvalAwaitPromise))
	if status != 404 {
		t.Errorf("carl's GET of h2's terminal: %d, want 404", status)
	}
	var cell string
	run(t, carl, "carl runs the connectivity matrix on the page",
		chromedp.Click(css(`#matrix-run`)),
		until(`!!document.querySelector('#matrix tr[data-from="1"] td[data-to="2"]')`, 90*time.Second),
		eval(`document.querySelector('#matrix tr[data-from="1"] td[data-to="2"]').textContent + document.querySelector('#matrix tr[data-from="2"] td[data-to="1"]').textContent`, &cell))
	screenshot(t, carl, shots, "9-shared-lab-group-matrix")
	// No BGP here: each pair is reachable on a path the matrix cannot judge.
	if cell != "??" && cell != "✓✓" {
		t.Errorf("the matrix's cells 1→2 and 2→1: %q, want both reachable", cell)
	}
}
