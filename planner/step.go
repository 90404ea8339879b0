// Package planner turns a lab into a Plan: typed steps with explicit
// dependencies, in a deterministic order. It is pure: no Docker, no netlink,
// no file system. Apply executes exactly the plan's steps. A step is data
// here (its Kind and payload); how each kind reads, is carried out and is
// compared with the host sits in one file per kind in package steps.
package planner

import (
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/netlab/netlab/spec"
)

// Kind is what a step does.
type Kind string

// The kinds of step, in the order ties are broken when sorting.
const (
	KindBridge   Kind = "bridge"   // create a lab-owned Linux bridge
	KindHostFW   Kind = "hostfw"   // let the bridge's traffic past the host's FORWARD chain
	KindCreate   Kind = "create"   // create a node's container (--net=none)
	KindStart    Kind = "start"    // start it: its command waits for ready
	KindHosts    Kind = "hosts"    // the node's /etc/hosts, kept equal to the lab's names
	KindLink     Kind = "link"     // veth pair between two nodes
	KindPort     Kind = "port"     // veth pair from a bridge into a node
	KindMacvlan  Kind = "macvlan"  // a macvlan of a host interface, in a node
	KindVLANIf   Kind = "vlanif"   // an 802.1Q sub-interface in a node
	KindHostLink Kind = "hostlink" // veth pair from the machine itself into a node
	KindAddr     Kind = "addr"     // addresses on an interface, and up
	KindRelay    Kind = "relay"    // an impaired link: both ends into the host, joined by a relay
	KindRoute    Kind = "route"    // a static route
	KindNAT      Kind = "nat"      // the node's nftables NAT table
	KindNDPProxy Kind = "ndpproxy" // proxy neighbour entries on an interface
	KindFirewall Kind = "firewall" // the node's nftables filter table
	KindIsolate  Kind = "isolate"  // the lab's nftables bridge table: isolated segments
	KindPublish  Kind = "publish"  // a host port forwarded into the node
	KindDHCPD    Kind = "dhcpd"    // netlab's DHCP server of a network
	KindReady    Kind = "ready"    // wiring done: the node's command starts
	KindLease    Kind = "lease"    // wait until a node's DHCP client holds its lease
)

// Kinds is every kind of step, in the order ties are broken when sorting.
// What each kind says, does and owns is in package steps.
var Kinds = []Kind{KindBridge, KindHostFW, KindCreate, KindStart, KindHosts, KindLink, KindRelay, KindHostLink, KindPort, KindMacvlan, KindVLANIf,
	KindAddr, KindRoute, KindNDPProxy, KindNAT, KindFirewall, KindIsolate, KindPublish, KindDHCPD, KindReady, KindLease}

var kindRank = map[Kind]int{}

func init() {
	for i, k := range Kinds {
		kindRank[k] = i
	}
}

// Step is one action of a plan. Exactly one of the payload fields is set,
// the one its Kind names.
type Step struct {
	ID   string   `json:"id"`
	Kind Kind     `json:"kind"`
	Node string   `json:"node,omitempty"`
	Deps []string `json:"deps"`

	Bridge    *Bridge        `json:"bridge,omitempty"`
	Container *Container     `json:"container,omitempty"`
	Veth      *Veth          `json:"veth,omitempty"`
	Macvlan   *Macvlan       `json:"macvlan,omitempty"`
	VLANIf    *VLANIf        `json:"vlanif,omitempty"`
	HostAddrs []netip.Prefix `json:"host_addrs,omitempty"` // the machine's end of a host link
	Addr      *Addr          `json:"addr,omitempty"`
	Relay     *Relay         `json:"relay,omitempty"`
	Route     *Route         `json:"route,omitempty"`
	NAT       *NAT           `json:"nat,omitempty"`
	NDPProxy  *NDPProxy      `json:"ndp_proxy,omitempty"`
	Firewall  *Firewall      `json:"firewall,omitempty"`
	Isolate   *Isolate       `json:"isolate,omitempty"`
	Publish   *Publish       `json:"publish,omitempty"`
	DHCPD     *DHCPD         `json:"dhcpd,omitempty"`
	Lease     *Lease         `json:"lease,omitempty"`
}

// Bridge is a network's Linux bridge on the host.
type Bridge struct {
	Network string `json:"network"`
	Name    string `json:"name"`  // host interface name
	Alias   string `json:"alias"` // names lab and network
	MAC     string `json:"mac"`   // fixed, so it does not follow its ports
	MTU     int    `json:"mtu,omitempty"`
	// External bridges are the host's: netlab checks that they exist and
	// adds ports, but never creates, changes or removes them.
	External bool `json:"external,omitempty"`
	// VLANFiltering: the bridge filters by 802.1Q tag (tagged VLANs).
	VLANFiltering bool `json:"vlan_filtering,omitempty"`
}

// Macvlan is a node interface made as a macvlan (bridge mode) of a host
// interface, directly in the node's namespace.
type Macvlan struct {
	Parent  string  `json:"parent"`
	Network string  `json:"network"`
	End     VethEnd `json:"end"`
}

// Container is everything needed to create a node's container.
type Container struct {
	Name      string            `json:"name"`
	Image     string            `json:"image"`
	Hostname  string            `json:"hostname"`
	Command   []string          `json:"command,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	Volumes   []string          `json:"volumes,omitempty"`
	Sysctls   map[string]string `json:"sysctls,omitempty"`
	DNS       []string          `json:"dns,omitempty"`
	DNSSearch []string          `json:"dns_search,omitempty"`
	Files     map[string]string `json:"files,omitempty"`    // path -> content, written into the container when it is created
	CapAdd    []string          `json:"cap_add,omitempty"`  // added to the engine's default capabilities
	CapDrop   []string          `json:"cap_drop,omitempty"` // dropped from them ("ALL": all)
	// DHCP lists the interfaces whose IPv4 address the node's init takes
	// by DHCP before it starts the node's command, and keeps renewing;
	// with DHCPDNS it writes the name servers of the lease into
	// /etc/resolv.conf (when the node gives no dns of its own).
	DHCP    []string `json:"dhcp,omitempty"`
	DHCPDNS bool     `json:"dhcp_dns,omitempty"`
	// Resources limit the node through its cgroups (nil: no limits).
	Resources *Resources `json:"resources,omitempty"`
	// Host is the cluster host the node is pinned to (kubernetes runtime;
	// "": where the scheduler puts it).
	Host   string            `json:"host,omitempty"`
	Labels map[string]string `json:"labels"`
	// HostAllowed says a person allowed what the lab asks of the host
	// (lab.Up sets it; never the planner): its volumes are mounted as
	// written, also through links out of the lab's folder, which are
	// otherwise refused when the node is made (trust.ConfineVolumes).
	HostAllowed bool `json:"-"`
}

// OtherCaps tells whether the node's capabilities are other than every
// node's (spec.DefaultCaps).
func (c Container) OtherCaps() bool {
	return !slices.Equal(c.CapAdd, spec.DefaultCaps) || len(c.CapDrop) > 0
}

// Resources are a node's cgroup limits, in the units the runtimes take;
// 0 is no limit.
type Resources struct {
	MilliCPUs int64 `json:"millicpus,omitempty"` // thousandths of a CPU
	Memory    int64 `json:"memory,omitempty"`    // bytes, memory and swap together
	Pids      int64 `json:"pids,omitempty"`
}

// NodeResources are a node's limits as the runtimes take them.
func NodeResources(r *spec.Resources) *Resources {
	if r.IsZero() {
		return nil
	}
	return &Resources{MilliCPUs: int64(math.Round(r.CPUs * 1000)), Memory: r.MemoryBytes, Pids: r.Pids}
}

// Host is one /etc/hosts line.
type Host struct {
	Addr  netip.Addr `json:"addr"`
	Names []string   `json:"names"`
}

// Veth is a veth pair. A link has both ends in nodes; a bridge port has end A
// on the host (Node "") attached to Bridge.
type Veth struct {
	A      VethEnd   `json:"a"`
	B      VethEnd   `json:"b"`
	Bridge string    `json:"bridge,omitempty"` // host bridge name, for a port
	VLAN   *PortVLAN `json:"vlan,omitempty"`   // the port's VLANs, where the bridge filters them
}

// PortVLAN is a bridge port's VLANs with VLAN filtering: an access port
// (PVID, untagged) and the VLANs it carries tagged.
type PortVLAN struct {
	PVID   int   `json:"pvid,omitempty"`
	Tagged []int `json:"tagged,omitempty"`
}

// VLANIf is an 802.1Q sub-interface of a node interface.
type VLANIf struct {
	Parent string  `json:"parent"`
	VID    int     `json:"vid"`
	End    VethEnd `json:"end"`
}

// VethEnd is one end of a veth pair.
type VethEnd struct {
	Node  string `json:"node,omitempty"` // "" for the host
	Name  string `json:"name"`
	MAC   string `json:"mac,omitempty"`
	MTU   int    `json:"mtu,omitempty"`
	Alias string `json:"alias,omitempty"`
}

// Addr sets an interface's addresses and brings it up. With DHCP its
// IPv4 address is left to the node's DHCP client.
type Addr struct {
	Iface string         `json:"iface"`
	Addrs []netip.Prefix `json:"addrs"`
	DHCP  bool           `json:"dhcp,omitempty"`
	SLAAC bool           `json:"slaac,omitempty"` // IPv6 addresses from router advertisements
}

// DHCPD is netlab's DHCP server of a network. Without Node it runs in a
// network namespace of its own whose interface (Iface, MAC) is a veth
// into the network's bridge (host end Port); with Node, in that node's
// namespace on its interface Iface. Addr is its address, with the
// subnet's prefix length, which clients get too.
type DHCPD struct {
	Network string        `json:"network"`
	Node    string        `json:"node,omitempty"`
	Iface   string        `json:"iface"`
	Addr    netip.Prefix  `json:"addr"`
	Bridge  string        `json:"bridge,omitempty"`
	Port    *VethEnd      `json:"port,omitempty"`
	MAC     string        `json:"mac,omitempty"`
	First   netip.Addr    `json:"first"`
	Last    netip.Addr    `json:"last"`
	Router  netip.Addr    `json:"router,omitzero"`
	DNS     []netip.Addr  `json:"dns,omitempty"`
	Lease   time.Duration `json:"lease"`
	PidName string        `json:"pid_name"`         // the server's pid file, in the lab's run directory; its leases and log beside it
	Beside  string        `json:"beside,omitempty"` // a server on the bridge: the network's first node, on whose host a cluster runs it
}

// Lease waits until a node's DHCP client holds an IPv4 address on Iface.
type Lease struct {
	Iface   string `json:"iface"`
	Network string `json:"network"`
}

// Relay is an impaired point-to-point link. Each node end is a veth pair
// whose other end is on the host (A[i] in the node, Host[i] on the host); a
// netlab relay process carries frames between the two host ends, delaying,
// dropping and pacing them as Spec says. Unlike netem it needs nothing of
// the kernel, so a lab is impaired the same on every machine.
type Relay struct {
	Ends    [2]VethEnd      `json:"ends"` // in the nodes
	Host    [2]VethEnd      `json:"host"` // on the host
	Spec    spec.Impairment `json:"spec"`
	PidName string          `json:"pid_name"` // the relay's pid file, in the lab's run directory
}

// Route is a static route in a node.
type Route struct {
	Dst netip.Prefix `json:"dst"`
	Via netip.Addr   `json:"via,omitzero"`
	Dev string       `json:"dev,omitempty"`
}

// String is the route as ip route writes it: "10.0.2.0/24 via 10.0.1.1 dev eth0".
func (r Route) String() string {
	s := r.Dst.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}

// DstName is the route's destination as its step's ID and description
// write it: "default" (IPv4), "default6" or the prefix.
func (r Route) DstName() string {
	if r.Dst.Bits() == 0 {
		if r.Dst.Addr().Is4() {
			return "default"
		}
		return "default6"
	}
	return r.Dst.String()
}

// NDPProxy is the addresses a node answers neighbour solicitations for on
// an interface.
type NDPProxy struct {
	Iface string       `json:"iface"`
	Addrs []netip.Addr `json:"addrs"`
}

// Firewall is the node's nftables filter: a policy per chain and rules.
type Firewall struct {
	Input   string         `json:"input"`
	Forward string         `json:"forward"`
	Output  string         `json:"output"`
	Rules   []FirewallRule `json:"rules,omitempty"`
}

// FirewallRule is one filter rule, its peers resolved to prefixes (nil:
// any). Families are the address families it matches.
type FirewallRule struct {
	Chain    string         `json:"chain"`
	Action   string         `json:"action"`
	Proto    string         `json:"proto,omitempty"`
	PortMin  int            `json:"port_min,omitempty"`
	PortMax  int            `json:"port_max,omitempty"`
	From     []netip.Prefix `json:"from,omitempty"`
	To       []netip.Prefix `json:"to,omitempty"`
	In       string         `json:"in,omitempty"`
	Out      string         `json:"out,omitempty"`
	Families []int          `json:"families"`
}

// Isolate is the lab's bridge-family nftables table on the host: frames
// between two member ports of an isolated segment are dropped, unless an
// allow rule lets them through.
type Isolate struct {
	Table    string            `json:"table"`
	Networks []IsolatedNetwork `json:"networks"`
}

// IsolatedNetwork is one isolated segment: the host-side ports of its
// members that are not routers, and what may pass between them.
type IsolatedNetwork struct {
	Network string      `json:"network"`
	Bridge  string      `json:"bridge"`
	Members []string    `json:"members"`        // host-side port names
	MACs    []string    `json:"macs,omitempty"` // each member's MAC (its node's end), as Members
	Allow   []AllowRule `json:"allow,omitempty"`
	// Span is the VXLAN device joining this host's bridge of the network
	// to the other hosts' (a cluster's agent sets it; "" on one host):
	// a member's frames from another host arrive by it, known by their
	// source MAC, which the member's own host holds to the member's.
	Span string `json:"span,omitempty"`
}

// AllowRule lets traffic from one set of ports to another through, with
// its replies. Empty port lists mean every member.
type AllowRule struct {
	From    []string `json:"from,omitempty"`
	To      []string `json:"to,omitempty"`
	Proto   string   `json:"proto,omitempty"`
	PortMin int      `json:"port_min,omitempty"`
	PortMax int      `json:"port_max,omitempty"`
}

// NAT is the node's nftables NAT table.
type NAT struct {
	Masquerade []string `json:"masquerade,omitempty"`
	DNAT       []DNAT   `json:"dnat,omitempty"`
}

// DNAT forwards Proto/Port arriving on In to To.
type DNAT struct {
	In    string         `json:"in"`
	Proto string         `json:"proto"`
	Port  int            `json:"port"`
	To    netip.AddrPort `json:"to"`
}

// Publish forwards a host port into the node. The forwarder dials NodePort
// at Dial's addresses in order, the node's loopback first, and takes the
// first that answers: a server bound only to a lab address is reached too.
type Publish struct {
	HostIP   netip.Addr   `json:"host_ip"`
	HostPort int          `json:"host_port"`
	NodePort int          `json:"node_port"`
	Proto    string       `json:"proto"`
	Dial     []netip.Addr `json:"dial"`
}
