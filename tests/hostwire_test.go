package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ipCmd runs ip on the host and fails the test on error.
func ipCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// A network on a bridge the host already has: netlab adds its ports and
// removes them, and leaves the bridge and its address alone.
func TestExternalBridge(t *testing.T) {
	parallel(t)
	br := hostIfName("br")
	ipCmd(t, "link", "add", br, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	ipCmd(t, "addr", "add", "10.79.0.254/24", "dev", br)
	ipCmd(t, "link", "set", br, "up")
	l := upHost(t, "trust", `defaults: {image: netlab/tiny}
networks:
  office: {external: `+br+`, subnet: 10.79.0.0/24}
nodes:
  a: {interfaces: {eth0: {network: office, address: 10.79.0.1/24}}}
  b: {interfaces: {eth0: {network: office, address: 10.79.0.2/24}}}
`)
	l.mustPing("a", "10.79.0.2")
	if out := ipCmd(t, "-o", "link", "show", "master", br); strings.Count(out, "\n") != 2 {
		t.Errorf("bridge %s has not the lab's two ports:\n%s", br, out)
	}
	l.down()
	if out := ipCmd(t, "-o", "link", "show", "master", br); strings.TrimSpace(out) != "" {
		t.Errorf("down left ports on %s:\n%s", br, out)
	}
	if out := ipCmd(t, "-o", "addr", "show", "dev", br); !strings.Contains(out, "10.79.0.254/24") {
		t.Errorf("bridge %s lost its address:\n%s", br, out)
	}
}

// A network of macvlans of a host interface: here one end of a veth pair
// made by the test (this kernel has no dummy interfaces).
func TestMacvlanNetwork(t *testing.T) {
	parallel(t)
	parent := hostIfName("mv")
	ipCmd(t, "link", "add", parent, "type", "veth", "peer", "name", parent+"p")
	t.Cleanup(func() { exec.Command("ip", "link", "del", parent).Run() })
	ipCmd(t, "link", "set", parent, "up")
	ipCmd(t, "link", "set", parent+"p", "up")
	l := upHost(t, "allow", `defaults: {image: netlab/tiny}
networks:
  outside: {macvlan: `+parent+`, subnet: 10.80.0.0/24}
nodes:
  a: {interfaces: {eth0: {network: outside}}}
  b: {interfaces: {eth0: {network: outside, address: 10.80.0.20/24}}}
`)
	out, _ := exec.Command("nsenter", "-t", l.pid("a"), "-n", "ip", "-d", "link", "show", "eth0").CombinedOutput()
	if !strings.Contains(string(out), "macvlan mode bridge") {
		t.Errorf("a:eth0 is not a macvlan in bridge mode:\n%s", out)
	}
	l.mustPing("a", "10.80.0.20")
}

// A link from the machine itself into a node: the host reaches the node
// over it, and nothing else of the host changes.
func TestHostLink(t *testing.T) {
	serial(t) // it compares the host's addresses and routes before and after
	ifname := hostIfName("hl")
	before := hostState(t, ifname)
	l := upHost(t, "allow", `defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {address: 10.81.0.2/30}}}
links:
  - {endpoints: [host:`+ifname+`, a:eth0], host_address: 10.81.0.1/30}
`)
	if out, err := exec.Command("ping", "-c", "1", "-W", "2", "-I", ifname, "10.81.0.2").CombinedOutput(); err != nil {
		t.Errorf("the host cannot ping a over %s: %v\n%s", ifname, err, out)
	}
	l.mustPing("a", "10.81.0.1")
	if after := hostState(t, ifname); after != before {
		t.Errorf("the host changed beyond %s:\nbefore:\n%s\nafter:\n%s", ifname, before, after)
	}
	l.down()
	if out, _ := exec.Command("ip", "link", "show", ifname).CombinedOutput(); !strings.Contains(string(out), "does not exist") {
		t.Errorf("down left %s:\n%s", ifname, out)
	}
}

// upHost brings up a lab that reaches the host. An up without a person's
// allowance is refused, names what the lab asks and makes nothing; then
// the lab comes up with --allow-host (how "allow"), or after netlab trust
// FILE (how "trust"), whose record is removed at the end.
func upHost(t *testing.T, how, body string) *lab {
	t.Helper()
	l := &lab{t: t, name: labName(t)}
	l.file = writeLab(t, l.name, body)
	t.Cleanup(func() { l.down() })
	r := netlab(t, "up", l.file)
	if r.code == 0 || !strings.Contains(r.stderr, "reaches past its lab into this machine") || !strings.Contains(r.stderr, "--allow-host") {
		t.Fatalf("an up without allowance: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left := leftovers(l.name); left != "" {
		t.Fatalf("a refused up made %s", left)
	}
	args := []string{"up", "--allow-host", l.file}
	if how == "trust" {
		if r := netlab(t, "trust", l.file); r.code != 0 || !strings.Contains(r.stdout, "trusted "+l.file) {
			t.Fatalf("netlab trust: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		t.Cleanup(func() { removeTrust(t, l.file) })
		args = []string{"up", l.file}
	}
	if r := netlab(t, args...); r.code != 0 {
		t.Fatalf("netlab %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return l
}

// removeTrust removes the host's trust records of file.
func removeTrust(t *testing.T, file string) {
	records, _ := filepath.Glob("/var/lib/netlab/trust/*")
	for _, rec := range records {
		if data, err := os.ReadFile(rec); err == nil && strings.Contains(string(data), `"file": "`+file+`"`) {
			os.Remove(rec)
		}
	}
}

// hostState is the host's addresses and routes, without those of ifname.
func hostState(t *testing.T, ifname string) string {
	var keep []string
	for _, args := range [][]string{{"-o", "addr"}, {"route"}, {"-6", "route"}} {
		for _, line := range strings.Split(ipCmd(t, args...), "\n") {
			if !strings.Contains(line, ifname) && !strings.Contains(line, "nl") {
				keep = append(keep, line)
			}
		}
	}
	return strings.Join(keep, "\n")
}

// Proxy NDP, as in Docker's IPv6 documentation: h sits behind router r
// with an address of the outer segment's prefix; r answers neighbour
// solicitations for it there, so ext reaches h as if it were on-link.
func TestNDPProxy(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  outer: {}
nodes:
  ext: {interfaces: {eth0: {network: outer, address: "fd00:71::10/64"}}}
  r:
    forward: true
    interfaces:
      eth0: {network: outer, address: "fd00:71::1/64", ndp_proxy: ["fd00:71::100"]}
      eth1: {address: "fd00:72::1/64"}
    routes: [{to: "fd00:71::100/128", via: "fd00:72::2"}]
  h:
    interfaces: {eth0: {address: ["fd00:71::100/128", "fd00:72::2/64"]}}
    gateway: "fd00:72::1"
links: [[r:eth1, h:eth0]]
`)
	l.mustPing("ext", "fd00:71::100")
	out, _ := l.exec("ext", "ip", "-6", "neigh")
	rmac, _ := l.exec("r", "cat", "/sys/class/net/eth0/address")
	if !strings.Contains(out, "fd00:71::100") || !strings.Contains(out, strings.TrimSpace(rmac)) {
		t.Errorf("ext did not learn fd00:71::100 at r's MAC %s:\n%s", strings.TrimSpace(rmac), out)
	}
}

// The bridged lab on a bridge and a NIC made by the test, named through the
// lab's variables.
func TestBridgedLab(t *testing.T) {
	parallel(t)
	br, nic := hostIfName("bbr"), hostIfName("bn")
	ipCmd(t, "link", "add", br, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	ipCmd(t, "link", "set", br, "up")
	ipCmd(t, "link", "add", nic, "type", "veth", "peer", "name", nic+"p")
	t.Cleanup(func() { exec.Command("ip", "link", "del", nic).Run() })
	ipCmd(t, "link", "set", nic, "up")
	ipCmd(t, "link", "set", nic+"p", "up")
	l := upBundled(t, "bridged", "NETLAB_BRIDGE="+br, "NETLAB_NIC="+nic)
	l.mustPing("guest", "192.168.50.1")
	l.mustPing("router", "fd00:50::80")
	if out, code := l.exec("guest", "ip", "addr", "add", "192.168.50.99/24", "dev", "eth0"); code == 0 || !strings.Contains(out, "not permitted") {
		t.Errorf("guest dropped NET_ADMIN but could add an address: exit %d %s", code, out)
	}
	if out := ipCmd(t, "-o", "link", "show", "master", br); strings.Count(out, "\n") != 2 {
		t.Errorf("bridge %s has not the lab's two ports:\n%s", br, out)
	}
}
