package hostcheck

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// byHand makes each feature with the host's own tools, in a network
// namespace of its own (unshare -n), as a person would. (Names are x0,
// x1: ip takes "a" for address.)
var byHand = map[Feature]string{
	Veth:       "ip link add x0 type veth peer name x1",
	Bridge:     "ip link add x0 type bridge",
	BridgeVLAN: "ip link add x0 type bridge vlan_filtering 1 && ip -d link show x0 | grep -q 'vlan_filtering 1'",
	VLAN:       "ip link add x0 type veth peer name x1 && ip link add link x0 name x0.10 type vlan id 10",
	Macvlan:    "ip link add x0 type veth peer name x1 && ip link add x2 link x0 type macvlan mode bridge",
	Ipvlan:     "ip link add x0 type veth peer name x1 && ip link add x2 link x0 type ipvlan mode l2",
	Vxlan:      "ip link add x0 type vxlan id 10 dstport 4789",
	Dummy:      "ip link add x0 type dummy",
	IPIP:       "ip link add x0 type ipip local 192.0.2.1 remote 192.0.2.2",
	GRE:        "ip link add x0 type gre local 192.0.2.1 remote 192.0.2.2",
	GRETap:     "ip link add x0 type gretap local 192.0.2.1 remote 192.0.2.2",
	SIT:        "ip link add x0 type sit local 192.0.2.1 remote 192.0.2.2",
	Bonding:    "ip link add x0 type bond",
	VRF:        "ip link add x0 type vrf table 10",
	Wireguard:  "ip link add x0 type wireguard",
	IFB:        "ip link add x0 type ifb",
	Tun:        "ip tuntap add x0 mode tap",
	Netem:      "tc qdisc add dev lo root netem delay 1ms",
	TBF:        "tc qdisc add dev lo root tbf rate 1mbit burst 32kbit latency 400ms",
	HTB:        "tc qdisc add dev lo root handle 1: htb",
	NFTables:   "nft add table inet t",
	MPLS:       "test -e /proc/sys/net/mpls/platform_labels",
}

// The probe's answer for each feature is the kernel's: making the same
// thing by hand succeeds exactly when the probe says present. The probe
// leaves nothing on the host.
func TestProbeAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes network namespaces")
	}
	for _, tool := range []string{"unshare", "ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s to check the probe's answers", tool)
		}
	}
	before := hostLinks(t)
	k, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	if after := hostLinks(t); !slices.Equal(before, after) {
		t.Errorf("the probe changed the host's links:\nbefore %q\nafter  %q", before, after)
	}
	if len(k) != len(Features) {
		t.Fatalf("%d results for %d features", len(k), len(Features))
	}
	for _, r := range k {
		cmd, ok := byHand[r.Feature]
		if !ok {
			t.Errorf("%s: no command to check it by hand", r.Feature)
			continue
		}
		out, err := exec.Command("unshare", "-n", "sh", "-c", "ip link set lo up && "+cmd).CombinedOutput()
		if made := err == nil; made != r.Present {
			t.Errorf("%s: the probe says present=%v (%s), by hand: %s -> %v %s", r.Feature, r.Present, r.Error, cmd, err, strings.TrimSpace(string(out)))
		}
		if !r.Present && r.Error == "" {
			t.Errorf("%s: absent without a reason", r.Feature)
		}
	}
	t.Logf("absent: %v", absent(k))
}

func absent(k Kernel) []Feature {
	var out []Feature
	for _, r := range k {
		if !r.Present {
			out = append(out, r.Feature)
		}
	}
	return out
}

func hostLinks(t *testing.T) []string {
	t.Helper()
	list, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range list {
		out = append(out, l.Attrs().Name)
	}
	slices.Sort(out)
	return out
}
