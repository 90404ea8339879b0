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
// started by systemctl, BIND by /etc/init.d/bind (Kathará's name for it)
// with options of kathara/bind:9.11 that BIND 9.18 no longer has,
// the ISC DHCP server by service; a client leases an address with
// dhclient, resolves a name and fetches a page; brctl makes a bridge.
func TestKatharaServices(t *testing.T) {
	parallel(t)
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
		"dns/etc/bind/named.conf.options": "options {\n\tdirectory \"/var/cache/bind\";\n\tdnssec-enable no;\n" +
			"\tdnssec-lookaside no;\n\tfilter-aaaa-on-v4 yes;\n};\n",
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

// FRR's configuration as Kathará's images load it, on three routers in a
// row: r1 per-daemon files (/etc/frr/zebra.conf, ospfd.conf) started by
// systemctl start frr; r2 the integrated frr.conf, /etc/init.d/frr start;
// r3 a Quagga-era lab, /etc/init.d/zebra start then /etc/init.d/ospfd
// start with /etc/quagga/*.conf. OSPF carries the LANs at both ends, and
// vtysh shows each one's configuration. No daemon is left a zombie.
func TestKatharaFRRConfigs(t *testing.T) {
	parallel(t)
	needImages(t, "netlab/router")
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	ospf := func(host string) string {
		return "hostname " + host + "\n" +
			"interface eth0\n ip ospf hello-interval 1\n ip ospf dead-interval 4\n" +
			"interface eth1\n ip ospf hello-interval 1\n ip ospf dead-interval 4\n" +
			"router ospf\n network 10.0.0.0/8 area 0\n"
	}
	writeTree(t, dir, map[string]string{
		"lab.conf": "r1[0]=\"A\"\nr1[1]=\"B\"\nr2[0]=\"B\"\nr2[1]=\"C\"\nr3[0]=\"C\"\nr3[1]=\"D\"\n" +
			"r1[image]=\"kathara/frr\"\nr2[image]=\"kathara/frr\"\nr3[image]=\"kathara/quagga\"\n",
		"r1.startup":               "ip addr add 10.0.1.1/24 dev eth0\nip addr add 10.0.2.1/24 dev eth1\nsystemctl start frr\n",
		"r1/etc/frr/daemons":       "zebra=yes\nospfd=yes\n",
		"r1/etc/frr/zebra.conf":    "hostname r1\n",
		"r1/etc/frr/ospfd.conf":    ospf("r1"),
		"r2.startup":               "ip addr add 10.0.2.2/24 dev eth0\nip addr add 10.0.3.2/24 dev eth1\n/etc/init.d/frr start\n",
		"r2/etc/frr/daemons":       "zebra=yes\nospfd=yes\n",
		"r2/etc/frr/frr.conf":      ospf("r2"),
		"r3.startup":               "ip addr add 10.0.3.3/24 dev eth0\nip addr add 10.0.4.3/24 dev eth1\n/etc/init.d/zebra start\n/etc/init.d/ospfd start\n",
		"r3/etc/quagga/zebra.conf": "hostname r3\n",
		"r3/etc/quagga/ospfd.conf": ospf("r3"),
	})
	l := upDir(t, name, dir)
	l.waitOutput("r1", 90*time.Second, `10\.0\.4\.0/24 .*proto ospf`, "ip", "route")
	l.waitOutput("r3", 30*time.Second, `10\.0\.1\.0/24 .*proto ospf`, "ip", "route")
	for _, r := range []string{"r1", "r2", "r3"} {
		out, _ := l.exec(r, "vtysh", "-c", "show running-config")
		for _, want := range []string{"hostname " + r, "router ospf", "network 10.0.0.0/8 area 0", "ip ospf hello-interval 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s's running configuration lacks %q:\n%s", r, want, out)
			}
		}
	}
	l.noZombies("r1", "r2", "r3")
}

// Two Kathará routers peering by eBGP: r1 a Quagga-era lab (kathara/quagga,
// /etc/quagga/bgpd.conf written for Quagga, with no policy: FRR alone
// would keep its routes to itself), r2 on Kathará's default image
// (kathara/base, no image line) running FRR from its own frr.conf, which
// needs netlab/router's capabilities. Each learns the other's LAN.
func TestKatharaBGPPeers(t *testing.T) {
	parallel(t)
	needImages(t, "netlab/router")
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	writeTree(t, dir, map[string]string{
		"lab.conf":                 "r1[0]=\"A\"\nr1[1]=\"B\"\nr1[image]=\"kathara/quagga\"\nr2[0]=\"A\"\nr2[1]=\"C\"\n",
		"r1.startup":               "ip addr add 10.0.0.1/24 dev eth0\nip addr add 10.1.0.1/24 dev eth1\nsystemctl start quagga\n",
		"r1/etc/quagga/daemons":    "zebra=yes\nbgpd=yes\n",
		"r1/etc/quagga/zebra.conf": "hostname r1\n",
		"r1/etc/quagga/bgpd.conf":  "router bgp 1\n network 10.1.0.0/24\n neighbor 10.0.0.2 remote-as 2\n",
		"r2.startup":               "ip addr add 10.0.0.2/24 dev eth0\nip addr add 10.2.0.1/24 dev eth1\nsystemctl start frr\n",
		"r2/etc/frr/daemons":       "zebra=yes\nbgpd=yes\n",
		"r2/etc/frr/frr.conf": "router bgp 2\n no bgp ebgp-requires-policy\n neighbor 10.0.0.1 remote-as 1\n" +
			" address-family ipv4 unicast\n  network 10.2.0.0/24\n exit-address-family\n",
	})
	l := upDir(t, name, dir)
	l.waitOutput("r1", 90*time.Second, `10\.2\.0\.0/24 .*proto bgp`, "ip", "route")
	l.waitOutput("r2", 30*time.Second, `10\.1\.0\.0/24 .*proto bgp`, "ip", "route")
	l.noZombies("r1", "r2")
}
