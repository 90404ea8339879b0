package hostcheck

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/spec"
)

// files is a host with a few files, for Scan.
type files map[string]string

func (f files) read(path string) ([]byte, error) {
	if s, ok := f[path]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func parse(t *testing.T, yaml string) *spec.Lab {
	t.Helper()
	l, err := spec.Parse([]byte(yaml), "/labs/k/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// needsOf renders needs as "node feature where" lines.
func needsOf(needs []Need) []string {
	var out []string
	for _, n := range needs {
		out = append(out, n.Node+" "+string(n.Feature)+" "+n.Where)
	}
	return out
}

func TestScanLabFile(t *testing.T) {
	l := parse(t, `
name: k
defaults: {image: netlab/tiny}
networks:
  lan: {}
  sw: {}
  ext: {macvlan: eth9}
  iso: {isolated: true}
nodes:
  a:
    interfaces:
      eth0: {network: lan, trunk: [10]}
      eth0.20: {address: 10.0.20.1/24}
  b:
    interfaces:
      eth0: {network: ext}
    sysctls: {net.mpls.platform_labels: "100"}
  c:
    interfaces:
      eth0: {network: iso}
    nat: {masquerade: [eth0]}
`)
	got := needsOf(Scan(l, files{}.read))
	want := []string{
		"a veth lab file: nodes.a.interfaces.eth0",
		"a bridge lab file: nodes.a.interfaces.eth0",
		"a bridge-vlan-filtering lab file: nodes.a.interfaces.eth0",
		"a 8021q lab file: nodes.a.interfaces.eth0.20",
		"b veth lab file: nodes.b.interfaces.eth0",
		"b macvlan lab file: nodes.b.interfaces.eth0",
		"b mpls lab file: nodes.b.sysctls.net.mpls.platform_labels",
		"c veth lab file: nodes.c.interfaces.eth0",
		"c bridge lab file: nodes.c.interfaces.eth0",
		"c nf_tables lab file: nodes.c.interfaces.eth0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A converted Kathará lab: the command runs the startup scripts from the
// mounted lab folder, which run others.
func TestScanStartupScripts(t *testing.T) {
	l := parse(t, `
name: k
defaults:
  image: netlab/tiny
  volumes: ["/src/kat:/hostlab:ro", "./shared:/shared"]
nodes:
  r1:
    command: "cp -rfT /hostlab/r1 /; sh /hostlab/shared.startup; sh /hostlab/r1.startup; exec sleep infinity"
  r2:
    command: ["sh", "-c", "ip link add vx0 type vxlan id 5 && sleep infinity"]
  r3:
    command: "sh /hostlab/missing.startup; . /elsewhere/x.sh"
`)
	host := files{
		"/src/kat/shared.startup": "# comment: ip link add x type dummy\nmodprobe 8021q\n",
		"/src/kat/r1.startup": strings.Join([]string{
			"ip l a bond0 type bond mode 802.3ad",
			"ip tunnel add tunl1 mode gre remote 1.2.3.4",
			"ip tun add tunl0", // ipip when no mode
			"brctl addbr br0 && brctl addif br0 eth0",
			"X=1 tc qdisc add dev eth0 root netem delay 10ms",
			"ip link set br0 type bridge vlan_filtering 1",
			"ip link add link eth0 name eth0.10 type vlan id 10", // 8021q already from shared.startup
			"sh /shared/more.sh",
			"sysctl -w net.mpls.conf.eth0.input=1",
			"ip link add vrf-a type vrf table 10",
			"iptables -t nat -A POSTROUTING -j MASQUERADE",
			"modprobe -r bonding", // removing asks nothing
			"tc qdisc show",
		}, "\n"),
		"/labs/k/shared/more.sh": "wg-quick up wg0\nsh /hostlab/r1.startup\n", // a loop, followed once
	}
	got := needsOf(Scan(l, host.read))
	want := []string{
		"r1 8021q /src/kat/shared.startup:2",
		"r1 bonding /src/kat/r1.startup:1",
		"r1 gre /src/kat/r1.startup:2",
		"r1 ipip /src/kat/r1.startup:3",
		"r1 bridge /src/kat/r1.startup:4",
		"r1 netem /src/kat/r1.startup:5",
		"r1 bridge-vlan-filtering /src/kat/r1.startup:6",
		"r1 wireguard /labs/k/shared/more.sh:1",
		"r1 mpls /src/kat/r1.startup:9",
		"r1 vrf /src/kat/r1.startup:10",
		"r1 nf_tables /src/kat/r1.startup:11",
		"r2 vxlan lab file: nodes.r2.command",
	}
	if !slices.Equal(got, want) {
		t.Errorf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIPFeature(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want Feature
	}{
		{"ip link add d0 type dummy", Dummy},
		{"ip -n ns1 link add g type gretap local 1.1.1.1", GRETap},
		{"ip link replace v type vxlan id 1", Vxlan},
		{"ip tunnel add t mode sit", SIT},
		{"ip tuntap add tap0 mode tap", Tun},
		{"ip link add w type wireguard", Wireguard},
		{"ip link add i type ifb", IFB},
		{"ip link add m link eth0 type ipvlan", Ipvlan},
		{"ip link add x type nlmon", ""}, // not probed
		{"ip link set eth0 up", ""},
		{"ip link del bond0", ""},
		{"ip addr add 10.0.0.1/24 dev eth0", ""},
		{"ip route add default via 10.0.0.1", ""},
	} {
		f, _ := ipFeature(strings.Fields(tc.cmd)[1:])
		if f != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, f, tc.want)
		}
	}
}

func TestWarnings(t *testing.T) {
	needs := []Need{
		{Node: "r1", Feature: IPIP, Where: "/l/r1.startup:3", Command: "ip tunnel add tunl0"},
		{Node: "r1", Feature: Veth, Where: "lab file: nodes.r1.interfaces.eth0"},
		{Node: "r1", Feature: Bonding, Where: "/l/r1.startup:4", Command: "ip link add bond2 type bond"},
		{Node: "r2", Feature: Netem, Where: "lab file: nodes.r2.command", Command: "tc qdisc add dev eth0 root netem delay 5ms"},
	}
	k := Kernel{{Feature: Veth, Present: true}, {Feature: IPIP}, {Feature: Bonding}, {Feature: Netem}}
	got := Warnings(Missing(needs, k))
	want := []string{
		"node r1: this kernel has no ipip (/l/r1.startup:3: ip tunnel add tunl0): ipip tunnels in nodes fail; " +
			"no bonding (/l/r1.startup:4: ip link add bond2 type bond): bond interfaces in nodes fail",
		"node r2: this kernel has no netem (lab file: nodes.r2.command: tc qdisc add dev eth0 root netem delay 5ms): " +
			"netlab's link impairments use its own relay; tc netem in nodes fails",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := Warnings(Missing(needs, Kernel{{Feature: IPIP, Present: true}, {Feature: Bonding, Present: true}, {Feature: Netem, Present: true}})); w != nil {
		t.Errorf("a kernel with everything: %q", w)
	}
}

// Every feature has a probe, a purpose and a consequence.
func TestFeaturesComplete(t *testing.T) {
	seen := map[Feature]bool{}
	for _, f := range Features {
		if f.Enables == "" || f.Without == "" || seen[f.Feature] {
			t.Errorf("%s: incomplete or twice", f.Feature)
		}
		seen[f.Feature] = true
	}
	for _, f := range linkKinds {
		if !seen[f] {
			t.Errorf("link kind maps to %s, which is not probed", f)
		}
	}
	for _, f := range modules {
		if !seen[f] {
			t.Errorf("a module maps to %s, which is not probed", f)
		}
	}
}
