package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Kathará lab directory comes up as it would under Kathará: collision
// domains, startup scripts run after the wiring, NODE/ trees copied in,
// shared/ mounted; and netlab convert writes the same as a lab file.
func TestKatharaLab(t *testing.T) {
	parallel(t)
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	files := map[string]string{
		"lab.conf": `LAB_DESCRIPTION="two LANs and a router"
pc1[0]="A"
pc2[0]="B"
r1[0]="A"
r1[1]="B"
r1[image]="kathara/base"
r1[mem]="256m"
`,
		"pc1.startup":              "ip addr add 10.0.1.10/24 dev eth0\nip route add default via 10.0.1.1\n",
		"pc2.startup":              "ip addr add 10.0.2.10/24 dev eth0\nip route add default via 10.0.2.1\n",
		"r1.startup":               "ip addr add 10.0.1.1/24 dev eth0\nip addr add 10.0.2.1/24 dev eth1\necho \"$(hostname) has $(ls /sys/class/net | wc -l) interfaces\" > /shared/r1.txt\n",
		"r1/etc/motd":              "copied from the lab folder\n",
		"pc1.test":                 "ip -4 -o addr show eth0 | awk '{print $4}'\n",
		"_test/signature/pc1.user": "10.0.1.10/24\n",
		"pc2.test":                 "ip -4 -o addr show eth0 | awk '{print $4}'\n",
		"_test/signature/pc2.user": "10.0.2.99/24\n",
		"shared/.keep":             "",
	}
	writeTree(t, dir, files)
	r := netlab(t, "convert", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "name: "+name) || !strings.Contains(r.stderr, "lab.conf:7: r1[mem] is ignored") {
		t.Fatalf("convert: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l := upDir(t, name, dir)
	var ok bool
	for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ok = l.ping("pc1", "10.0.2.10")
	}
	if !ok {
		t.Error("pc1 cannot ping pc2 through r1 after their startup scripts")
	}
	if out, _ := l.exec("r1", "cat", "/etc/motd"); out != "copied from the lab folder\n" {
		t.Errorf("r1/etc/motd not copied into r1: %q", out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "shared", "r1.txt")); !strings.Contains(string(data), "r1 has 3 interfaces") {
		t.Errorf("shared/r1.txt = %q", data)
	}
	// Kathará's user tests as checks: pc1's signature holds, pc2's does not.
	if r := netlab(t, "check", dir); r.code != 1 || !strings.Contains(r.stdout, "1 passed, 1 failed") ||
		!strings.Contains(r.stdout, "pc2: Kathará user test") {
		t.Errorf("check of the Kathará lab: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "logs", name, "r1"); !strings.Contains(r.stdout, "netlab: r1 started") {
		t.Errorf("logs of r1:\n%s%s", r.stdout, r.stderr)
	}
	// A line netlab cannot map is refused with its line, and nothing is made.
	bad := filepath.Join(t.TempDir(), name+"-bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "lab.conf"), []byte("a[0]=\"A\"\nthis is not kathara\n"), 0o644)
	if r := netlab(t, "up", bad); r.code != 2 || !strings.Contains(r.stderr, "lab.conf:2: ") {
		t.Errorf("bad lab.conf: exit %d\n%s", r.code, r.stderr)
	}
	if left := leftovers(name + "-bad"); left != "" {
		t.Errorf("an invalid lab left %s", left)
	}
}

// Kathará's builtin tests as checks: pc1's signature (written as Kathará's
// ltest wrote them, processes of Kathará's own included) holds; r1's was
// altered (another address, a route r1 has not) and fails, saying what
// differs.
func TestKatharaBuiltinSignature(t *testing.T) {
	parallel(t)
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	pc1 := `{
    "interfaces": {
        "eth0": {"ip_addresses": ["10.0.1.10/24"], "state": "UP"},
        "lo": {"ip_addresses": ["127.0.0.1/8"], "state": "UNKNOWN"}
    },
    "route": [
        {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.10", "flags": []},
        {"dst": "default", "gateway": "10.0.1.1", "dev": "eth0", "flags": []}
    ],
    "listening_ports": [
        "tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN     "
    ],
    "processes": ["/bin/bash /hostlab/pc1.startup", "busybox httpd -p 0.0.0.0:8080 -h /tmp", "tail -f /dev/null"]
}`
	r1 := `{
    "interfaces": {
        "eth0": {"ip_addresses": ["10.0.1.2/24"], "state": "UP"},
        "lo": {"ip_addresses": ["127.0.0.1/8"], "state": "UNKNOWN"}
    },
    "route": [
        {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.1", "flags": []},
        {"dst": "10.0.9.0/24", "gateway": "10.0.1.254", "dev": "eth0", "flags": []}
    ],
    "listening_ports": [],
    "processes": []
}`
	files := map[string]string{
		"lab.conf":                    "pc1[0]=\"A\"\nr1[0]=\"A\"\nr1[image]=\"kathara/base\"\n",
		"pc1.startup":                 "ip addr add 10.0.1.10/24 dev eth0\nip route add default via 10.0.1.1\nbusybox httpd -p 0.0.0.0:8080 -h /tmp\n",
		"r1.startup":                  "ip addr add 10.0.1.1/24 dev eth0\n",
		"_test/signature/pc1.builtin": pc1,
		"_test/signature/r1.builtin":  r1,
	}
	writeTree(t, dir, files)
	upDir(t, name, dir)
	r := netlab(t, "check", dir, "--json")
	var rep struct {
		Passed, Failed int
		Checks         []struct {
			Name, Probe, Detail string
			Passed              bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if r.code != 1 || rep.Passed != 1 || rep.Failed != 1 || len(rep.Checks) != 2 {
		t.Fatalf("check: exit %d, want 1 passed, 1 failed:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range rep.Checks {
		switch c.Name {
		case "pc1: Kathará builtin test":
			if !c.Passed || c.Probe != "signature" || !strings.Contains(c.Detail, "1 listening ports as signed") {
				t.Errorf("pc1: %+v", c)
			}
		case "r1: Kathará builtin test":
			for _, want := range []string{"eth0: address 10.0.1.2/24 missing", "eth0: extra address 10.0.1.1/24",
				"route missing: 10.0.9.0/24 via 10.0.1.254 dev eth0"} {
				if c.Passed || !strings.Contains(c.Detail, want) {
					t.Errorf("r1's detail lacks %q: %+v", want, c)
				}
			}
		default:
			t.Errorf("unexpected check %+v", c)
		}
	}
}

// A Kathará lab written for Quagga: /etc/quagga/*.conf and
// /etc/init.d/quagga start run by FRR's compatible daemons.
func TestKatharaQuaggaLab(t *testing.T) {
	parallel(t)
	name := labName(t)
	dir := filepath.Join(t.TempDir(), name)
	ospfd := func(host string) string {
		return "hostname " + host + "\npassword zebra\ninterface eth0\n ip ospf hello-interval 1\n ip ospf dead-interval 4\n" +
			"interface eth1\n ip ospf hello-interval 1\n ip ospf dead-interval 4\nrouter ospf\n network 10.0.0.0/8 area 0\n"
	}
	files := map[string]string{
		"lab.conf":                 "r1[0]=\"A\"\nr1[1]=\"B\"\nr2[0]=\"C\"\nr2[1]=\"B\"\nr1[image]=\"kathara/quagga\"\nr2[image]=\"kathara/quagga\"\n",
		"r1.startup":               "ip addr add 10.0.1.1/24 dev eth0\nip addr add 10.0.2.1/24 dev eth1\n/etc/init.d/quagga start\n",
		"r2.startup":               "ip addr add 10.0.3.1/24 dev eth0\nip addr add 10.0.2.2/24 dev eth1\n/etc/init.d/quagga start\n",
		"r1/etc/quagga/zebra.conf": "hostname r1\npassword zebra\n",
		"r1/etc/quagga/ospfd.conf": ospfd("r1"),
		"r2/etc/quagga/zebra.conf": "hostname r2\npassword zebra\n",
		"r2/etc/quagga/ospfd.conf": ospfd("r2"),
	}
	writeTree(t, dir, files)
	l := upDir(t, name, dir)
	l.waitOutput("r1", 60*time.Second, `10\.0\.3\.0/24 .*proto ospf`, "ip", "route")
	if out, _ := l.exec("r2", "vtysh", "-c", "show ip ospf neighbor"); !strings.Contains(out, "Full") {
		t.Errorf("r2 has no full OSPF neighbour:\n%s", out)
	}
}

// A containerlab topology with linux and bridge nodes comes up: the bridge
// as a lab network, exec commands after the wiring.
func TestContainerlabTopology(t *testing.T) {
	parallel(t)
	name := labName(t)
	file := filepath.Join(t.TempDir(), name+".clab.yml")
	topo := `name: ` + name + `
mgmt: {network: custom}
topology:
  kinds:
    linux: {image: busybox:latest}
  nodes:
    a: {kind: linux, exec: ["ip addr add 10.5.0.1/24 dev eth1"]}
    b:
      kind: linux
      image: netlab/tiny
      exec: ["ip addr add 10.5.0.2/24 dev eth1", "ip addr add 10.6.0.2/24 dev eth2"]
    c: {kind: linux, image: netlab/tiny, exec: ["ip addr add 10.6.0.3/24 dev eth1"]}
    sw: {kind: bridge}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
    - endpoints: ["b:eth2", "sw:p1"]
    - endpoints: ["c:eth1", "sw:p2"]
`
	if err := os.WriteFile(file, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, name: name, file: file}
	t.Cleanup(func() { l.down() })
	r := netlab(t, "up", file)
	if r.code != 0 || !strings.Contains(r.stderr, "mgmt is ignored") {
		t.Fatalf("netlab up %s: exit %d\n%s%s", file, r.code, r.stdout, r.stderr)
	}
	var ok bool
	for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ok = l.ping("a", "10.5.0.2") && l.ping("c", "10.6.0.2")
	}
	if !ok {
		t.Error("the nodes' exec commands did not connect them")
	}
	bad := filepath.Join(t.TempDir(), "bad.clab.yml")
	os.WriteFile(bad, []byte("name: "+name+"-bad\ntopology:\n  nodes:\n    r1: {kind: nokia_srlinux, image: ghcr.io/nokia/srlinux}\n"), 0o644)
	if r := netlab(t, "up", bad); r.code != 2 || !strings.Contains(r.stderr, "bad.clab.yml:4: node r1 is of kind \"nokia_srlinux\"") {
		t.Errorf("an unsupported kind: exit %d\n%s", r.code, r.stderr)
	}
}

// The converter's fixtures (convert/testdata) come up under netlab and pass
// their own tests: Kathará static routing, FRR with OSPF, DNS with shared/,
// and a containerlab chain.
func TestConvertFixtures(t *testing.T) {
	parallel(t)
	for _, fx := range []string{"kathara/static", "kathara/ospf-frr", "kathara/dns", "clab/chain.clab.yml"} {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			parallel(t)
			name := labName(t)
			src := filepath.Join("..", "convert", "testdata", fx)
			dst := filepath.Join(t.TempDir(), name)
			if strings.HasSuffix(fx, ".clab.yml") {
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				dst += ".clab.yml"
				os.WriteFile(dst, []byte(strings.Replace(string(data), "name: chain", "name: "+name, 1)), 0o644)
			} else if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
				t.Fatalf("copy %s: %v %s", src, err, out)
			}
			l := &lab{t: t, name: name, file: dst}
			t.Cleanup(func() { l.down() })
			if r := netlab(t, "up", dst); r.code != 0 {
				t.Fatalf("netlab up %s: exit %d\n%s%s", dst, r.code, r.stdout, r.stderr)
			}
			if strings.HasSuffix(fx, ".clab.yml") {
				var ok bool
				for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
					ok = l.ping("a", "10.7.2.3")
				}
				if !ok {
					t.Error("a cannot reach c through b")
				}
				return
			}
			if r := netlab(t, "check", dst); r.code != 0 {
				t.Errorf("netlab check %s: exit %d\n%s%s", dst, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// writeTree writes files (path relative to dir -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for f, content := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// upDir brings up the lab folder dir (a Kathará lab) as lab name, and
// registers its removal, checked to leave nothing.
func upDir(t *testing.T, name, dir string) *lab {
	t.Helper()
	l := &lab{t: t, name: name, file: dir}
	t.Cleanup(func() { l.down() })
	if r := netlab(t, "up", dir); r.code != 0 {
		t.Fatalf("netlab up %s: exit %d\n%s%s", dir, r.code, r.stdout, r.stderr)
	}
	return l
}
