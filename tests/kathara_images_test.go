package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needImages skips a test whose images are not built (make netlab-images).
func needImages(t *testing.T, images ...string) {
	t.Helper()
	for _, img := range images {
		if exec.Command("docker", "image", "inspect", img).Run() != nil {
			t.Skipf("image %s is missing: make netlab-images builds it", img)
		}
	}
}

// noZombies fails the test for every zombie in the lab's nodes.
func (l *lab) noZombies(nodes ...string) {
	l.t.Helper()
	for _, n := range nodes {
		ns, err := os.Readlink("/proc/" + l.pid(n) + "/ns/pid")
		if err != nil {
			l.t.Errorf("%s: %v", n, err)
			continue
		}
		if _, zombies := nodeProcesses(ns); len(zombies) > 0 {
			l.t.Errorf("zombies in %s: %s", n, strings.Join(zombies, ", "))
		}
	}
}

// A Kathará lab of services on kathara/base and kathara/bind nodes: Apache
// started by systemctl, BIND by /etc/init.d/bind (Kathará's name for it),
// the ISC DHCP server by service; a client leases an address with
// dhclient, resolves a name and fetches a page; brctl makes a bridge.
func TestKatharaServices(t *testing.T) {
	needImages(t, "netlab/host")
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	writeTree(t, dir, map[string]string{
		"lab.conf": `web[0]="A"
web[image]="kathara/base"
dns[0]="A"
dns[image]="kathara/bind:9.11"
dhcp[0]="A"
dhcp[image]="kathara/base"
pc[0]="A"
pc[image]="kathara/base"
`,
		"web.startup":                   "ip addr add 10.0.0.80/24 dev eth0\necho hello from apache > /var/www/html/index.html\nsystemctl start apache2\n",
		"dns.startup":                   "ip addr add 10.0.0.53/24 dev eth0\n/etc/init.d/bind start\n",
		"dns/etc/bind/named.conf.local": "zone \"lab.local\" { type master; file \"/etc/bind/db.lab.local\"; };\n",
		"dns/etc/bind/db.lab.local": "$TTL 60\n@ IN SOA ns.lab.local. root.lab.local. 1 60 60 60 60\n@ IN NS ns.lab.local.\n" +
			"ns IN A 10.0.0.53\nwww IN A 10.0.0.80\n",
		"dhcp.startup":                     "ip addr add 10.0.0.1/24 dev eth0\nservice isc-dhcp-server start\n",
		"dhcp/etc/default/isc-dhcp-server": "INTERFACESv4=\"eth0\"\n",
		"dhcp/etc/dhcp/dhcpd.conf": "default-lease-time 600;\nmax-lease-time 600;\n" +
			"subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.100 10.0.0.119;\n  option domain-name-servers 10.0.0.53;\n}\n",
		"pc.startup": "dhclient eth0\n",
	})
	l := upDir(t, name, dir)
	l.waitOutput("pc", 60*time.Second, `inet 10\.0\.0\.1[01][0-9]/24`, "ip", "-4", "addr", "show", "eth0")
	l.waitOutput("pc", 30*time.Second, `^10\.0\.0\.80\s*$`, "dig", "+short", "@10.0.0.53", "www.lab.local")
	l.waitOutput("pc", 30*time.Second, `hello from apache`, "curl", "-s", "http://10.0.0.80/")
	if out, code := l.exec("pc", "sh", "-c", "brctl addbr br9 && brctl show"); code != 0 || !strings.Contains(out, "br9") {
		t.Errorf("brctl in pc: exit %d\n%s", code, out)
	}
	if out, code := l.exec("web", "systemctl", "is-active", "apache2"); code != 0 || strings.TrimSpace(out) != "active" {
		t.Errorf("systemctl is-active apache2: exit %d %q", code, out)
	}
	l.noZombies("web", "dns", "dhcp", "pc")
}
