// Package internet builds class-wide Internets as netlab lab files: ASes of
// FRR routers with hosts and switched networks, joined by customer/provider
// and peer links and at IXPs with route servers, numbered and configured
// the way ETH Zürich's mini-Internet does it. Generate makes one from a few
// numbers; package convert reads a mini-Internet configuration into the
// same Internet value; Lab writes either as an ordinary lab file.
package internet

import (
	"fmt"
	"net/netip"
	"strings"
)

// Internet is a class-wide Internet: ASes, the links between them, IXPs.
type Internet struct {
	Name   string   // the lab's name
	Header []string // comment lines at the top of the lab file
	ASes   []*AS
	Links  []*Link
	IXPs   []*IXP
	// Checks are pings between hosts of different ASes, for netlab check.
	Checks [][2]string
}

// AS is one autonomous system: its routers, the links between them and its
// switched (layer 2) networks. Its prefix is AS.0.0.0/8.
type AS struct {
	Number int
	// Configured ASes get OSPF, iBGP between loopbacks, eBGP with their
	// relations' policies and the hosts' gateways; the others only
	// interfaces and addresses, for students to configure.
	Configured bool
	Comment    string // a line said above the AS's first router
	Routers    []*Router
	Internal   [][2]int // routers joined by a link, by index; the n-th link's subnet is AS.0.(n+1).0/24
	L2         []*L2    // switched networks; the n-th one's subnets are AS.(200+n).VLAN.0/24
}

// Router is a router of an AS. Index is its place in the AS's router list,
// which numbers its loopback AS.(151+Index).0.1/24.
type Router struct {
	Name  string // as the source names it, e.g. ZURI
	Index int
	// Hosts are the slots of the hosts behind the router, each on its own
	// subnet AS.(101+slot).0.0/24 (host .1, router .2). One host takes the
	// router's own index; a router that stands for several rows of the
	// source (all in one) has one per row.
	Hosts []int
	// HostIfaces name the router's interface toward each host ("host", or
	// "host0", "host1" for several), which also ends the host's node name.
	HostIfaces []string
	L2         string // the switched network the router is on, or ""
}

// L2 is a switched network of an AS: one bridge in netlab, whatever the
// number of switches, with its routers' ports carrying every VLAN of the
// AS tagged.
type L2 struct {
	Name     string   // as the source names it, e.g. DCN
	Switches []string // for the comment
	Hosts    []*L2Host
	VLANs    []int // every VLAN the AS's hosts use, sorted; 0 is untagged
}

// L2Host is a host on a switched network.
type L2Host struct {
	Name      string
	VLAN      int  // 0: untagged
	NoAddress bool // a VPN endpoint: an interface, no address
}

// Link joins two ASes' routers. A gets address Subnet.A, B Subnet.B.
type Link struct {
	A, B             int
	RouterA, RouterB string
	// RelB is what B is to A: customer, peer or provider (spec's
	// relations); what A is to B follows.
	RelB   string
	Subnet netip.Prefix // a /24
}

// IXP is an Internet exchange point: a network 180.N.0.0/24 with a route
// server at 180.N.0.N in AS N, members at 180.N.0.MEMBER.
type IXP struct {
	Number     int
	Configured bool
	Members    []IXPMember
}

// IXPMember is an AS's router at an IXP.
type IXPMember struct {
	AS     int
	Router string
}

// Inverse is what A is to B when B is rel to A.
func Inverse(rel string) string {
	switch rel {
	case "customer":
		return "provider"
	case "provider":
		return "customer"
	}
	return rel
}

// The address plan, after the mini-Internet's subnet_config.sh.

// Aggregate is the prefix an AS announces.
func Aggregate(as int) netip.Prefix { return pfx(as, 0, 0, 0, 8) }

// Loopback is the address of router index i on its loopback.
func Loopback(as, i int) netip.Prefix { return pfx(as, 151+i, 0, 1, 24) }

// HostAddr and HostGateway are the addresses of the host in slot j and of
// its router on their subnet.
func HostAddr(as, j int) netip.Prefix    { return pfx(as, 101+j, 0, 1, 24) }
func HostGateway(as, j int) netip.Prefix { return pfx(as, 101+j, 0, 2, 24) }

// InternalAddr is the address of end e (1 or 2) of the AS's n-th link.
func InternalAddr(as, n, e int) netip.Prefix { return pfx(as, 0, n+1, e, 24) }

// L2Addr is the address of member m (routers first, from 1) on VLAN v of
// the AS's n-th switched network.
func L2Addr(as, n, v, m int) netip.Prefix { return pfx(as, 200+n, v, m, 24) }

// IXPAddr is the address of AS as (the IXP's own number for its route
// server) on IXP n's network.
func IXPAddr(n, as int) netip.Prefix { return pfx(180, n, 0, as, 24) }

// ExternalSubnet is the subnet of a link between ASes a and b: 179.a.b.0/24,
// as the mini-Internet's files give them.
func ExternalSubnet(a, b int) netip.Prefix { return pfx(179, a, b, 0, 24) }

// EndAddr is an AS's address on an AS-to-AS link's subnet: the subnet's
// address with the AS number as last byte.
func EndAddr(subnet netip.Prefix, as int) netip.Prefix {
	b := subnet.Masked().Addr().As4()
	b[3] = byte(as)
	return netip.PrefixFrom(netip.AddrFrom4(b), subnet.Bits())
}

func pfx(a, b, c, d, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a), byte(b), byte(c), byte(d)}), bits)
}

// Bounds of the address plan: an AS number is the first byte of its
// prefix, and not one the plan uses for something else.
const (
	MaxAS      = 223 // 224 and above are multicast and reserved
	MaxRouters = 49  // loopbacks AS.151-199, hosts AS.101-149
	MaxL2      = 55  // AS.200-254
	MaxVLAN    = 254
)

// CheckAS says what is wrong with n as an AS number of the plan, or "".
func CheckAS(n int) string {
	switch {
	case n < 1 || n > MaxAS:
		return fmt.Sprintf("AS %d: the address plan makes AS N's prefix N.0.0.0/8, so N must be 1 to %d", n, MaxAS)
	case n == 127 || n == 157 || n == 158 || n == 179 || n == 180 || n == 198:
		return fmt.Sprintf("AS %d: %d.0.0.0/8 is used by the address plan itself (loopback, IXP or AS links)", n, n)
	}
	return ""
}

// CheckIXP says what is wrong with n as an IXP number, or "".
func CheckIXP(n int) string {
	if n < 1 || n > 254 {
		return fmt.Sprintf("IXP %d: the IXP's network is 180.N.0.0/24 with the route server at 180.N.0.N, so N must be 1 to 254", n)
	}
	return ""
}

// NodeName makes a node name of a source name: lower case, '_' as '-'.
func NodeName(parts ...string) string {
	return strings.ReplaceAll(strings.ToLower(strings.Join(parts, "-")), "_", "-")
}

// RouterNode, HostNode, L2HostNode, RouteServerNode name the lab's nodes;
// L2Network and IXPNetwork its networks.
func RouterNode(as int, r string) string       { return NodeName(fmt.Sprintf("as%d", as), r) }
func HostNode(as int, r, suffix string) string { return NodeName(fmt.Sprintf("as%d", as), r, suffix) }
func L2HostNode(as int, h string) string       { return NodeName(fmt.Sprintf("as%d", as), h) }
func RouteServerNode(n int) string             { return fmt.Sprintf("rs%d", n) }
func L2Network(as int, l2 string) string       { return NodeName(fmt.Sprintf("as%d", as), l2) }
func IXPNetwork(n int) string                  { return fmt.Sprintf("ixp%d", n) }
