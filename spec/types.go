// Package spec defines the lab file format: its Go types, how a file is
// loaded (decode, schema, defaults, semantic checks) and the errors it reports.
package spec

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Lab is a whole lab file, loaded, defaulted and checked.
type Lab struct {
	Name string `yaml:"name" json:"name"`
	// Runtime runs the nodes: "docker" (the default, "" here), "runc" or
	// "kubernetes".
	Runtime  string     `yaml:"runtime,omitempty" json:"runtime,omitempty"`
	Defaults Defaults   `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	Networks NetworkMap `yaml:"networks,omitempty" json:"networks,omitempty"`
	Nodes    NodeMap    `yaml:"nodes" json:"nodes"`
	Links    []*Link    `yaml:"links,omitempty" json:"links,omitempty"`
	Checks   []*Check   `yaml:"checks,omitempty" json:"checks,omitempty"` // what a working lab does, for netlab check
	Stages   []*Stage   `yaml:"stages,omitempty" json:"stages,omitempty"` // the steps of an exercise, for netlab check --stage and netlab reset
	// SSHEntry publishes an ssh entry per group of nodes (a jump node).
	SSHEntry *SSHEntry `yaml:"ssh_entry,omitempty" json:"ssh_entry,omitempty"`

	// File is the path the lab was loaded from ("" when loaded from bytes).
	File string `yaml:"-" json:"-"`
	// Data is the YAML the lab was parsed from (for a Kathará or
	// containerlab lab, the converted file): the bytes a person's consent
	// to what the lab asks of the host is recorded for (package trust).
	Data []byte `yaml:"-" json:"-"`

	pos positions // where each YAML path stands in the file
}

// Defaults are node settings that apply where a node gives none. A node's
// own value wins: maps (env, sysctls) merge key by key, lists and single
// values replace, as containerlab's defaults and compose's extends do.
type Defaults struct {
	Image     string            `yaml:"image,omitempty" json:"image,omitempty"`
	Command   StringList        `yaml:"command,omitempty" json:"command,omitempty"`
	Env       map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Volumes   []string          `yaml:"volumes,omitempty" json:"volumes,omitempty"`
	Sysctls   map[string]string `yaml:"sysctls,omitempty" json:"sysctls,omitempty"`
	CapAdd    []string          `yaml:"cap_add,omitempty" json:"cap_add,omitempty"`
	CapDrop   []string          `yaml:"cap_drop,omitempty" json:"cap_drop,omitempty"`
	Forward   *bool             `yaml:"forward,omitempty" json:"forward,omitempty"`
	DNS       []string          `yaml:"dns,omitempty" json:"dns,omitempty"`
	DNSSearch []string          `yaml:"dns_search,omitempty" json:"dns_search,omitempty"`
	DependsOn []string          `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	Resources *Resources        `yaml:"resources,omitempty" json:"resources,omitempty"`
}

// Network is an Ethernet segment: a Linux bridge owned by the lab.
type Network struct {
	// Subnet and Subnet6 are the IPv4 and IPv6 prefixes of the segment.
	// Interfaces on the network that give no address of a family get the
	// next free one of that family's subnet.
	Subnet  string `yaml:"subnet,omitempty" json:"subnet,omitempty"`
	Subnet6 string `yaml:"subnet6,omitempty" json:"subnet6,omitempty"`
	MTU     int    `yaml:"mtu,omitempty" json:"mtu,omitempty"`
	// Isolated segments carry no traffic between their members, only
	// between a member and a router (a node with forward: true), and what
	// Allow lets through, like Docker's --icc=false.
	// External puts the segment on an existing host bridge (netlab adds and
	// removes its ports, never the bridge); Macvlan gives each member a
	// macvlan (bridge mode) of a host interface instead of a bridge port.
	External string `yaml:"external,omitempty" json:"external,omitempty"`
	Macvlan  string `yaml:"macvlan,omitempty" json:"macvlan,omitempty"`
	Isolated bool   `yaml:"isolated,omitempty" json:"isolated,omitempty"`
	// RoutersToo isolates the ports of forwarding nodes too, which an
	// isolated network leaves open (they route between its members):
	// an ssh entry's management network, where no router may carry
	// traffic from elsewhere to a node.
	RoutersToo bool     `yaml:"-" json:"-"`
	Allow      []*Allow `yaml:"allow,omitempty" json:"allow,omitempty"`
	// DHCP, when given, makes netlab serve DHCP on the segment.
	DHCP *DHCP `yaml:"dhcp,omitempty" json:"dhcp,omitempty"`

	Prefix  netip.Prefix `yaml:"-" json:"-"` // parsed Subnet (zero if none)
	Prefix6 netip.Prefix `yaml:"-" json:"-"` // parsed Subnet6 (zero if none)
}

// Allow lets traffic between two members of an isolated segment through,
// with its replies.
type Allow struct {
	From  string `yaml:"from,omitempty" json:"from,omitempty"` // a member node (default: any)
	To    string `yaml:"to,omitempty" json:"to,omitempty"`     // a member node (default: any)
	Proto string `yaml:"proto,omitempty" json:"proto,omitempty"`
	Port  string `yaml:"port,omitempty" json:"port,omitempty"` // "80" or "8000-8080"

	PortMin, PortMax int `yaml:"-" json:"-"` // parsed Port (0 if none)
}

// DHCP is the IPv4 DHCP service netlab runs on a network: a netlab server
// in a namespace of the lab's own on the segment, or in Server's namespace
// on its interface there.
type DHCP struct {
	Range   []string `yaml:"range" json:"range"` // [first, last]
	Gateway string   `yaml:"gateway,omitempty" json:"gateway,omitempty"`
	DNS     []string `yaml:"dns,omitempty" json:"dns,omitempty"`
	Lease   string   `yaml:"lease,omitempty" json:"lease,omitempty"` // a duration; default DefaultLease
	Server  string   `yaml:"server,omitempty" json:"server,omitempty"`

	First, Last netip.Addr    `yaml:"-" json:"-"` // parsed Range
	Router      netip.Addr    `yaml:"-" json:"-"` // parsed Gateway (zero if none)
	DNSAddrs    []netip.Addr  `yaml:"-" json:"-"` // parsed DNS
	LeaseTime   time.Duration `yaml:"-" json:"-"` // parsed Lease
	// ServerIface is the server node's interface on the network ("" for
	// netlab's own server), and ServerAddr the server's address: that
	// interface's IPv4 address, or one netlab takes from the subnet.
	ServerIface string       `yaml:"-" json:"-"`
	ServerAddr  netip.Prefix `yaml:"-" json:"-"`
}

// DefaultLease is how long a DHCP lease lasts when the file gives no lease.
const DefaultLease = time.Hour

// InRange tells whether a is in the DHCP range.
func (d *DHCP) InRange(a netip.Addr) bool {
	return d != nil && d.First.IsValid() && d.First.Compare(a) <= 0 && a.Compare(d.Last) <= 0
}

// DHCPAddress is the value of an interface address that asks for an IPv4
// address, prefix, default route and name servers by DHCP.
const DHCPAddress = "dhcp"

// SLAACAddress is the value of an interface address that takes IPv6
// addresses and a default route from router advertisements (SLAAC).
const SLAACAddress = "slaac"

// Node is one container: a host, router, NAT firewall or server.
type Node struct {
	Image      string            `yaml:"image,omitempty" json:"image,omitempty"`
	Hostname   string            `yaml:"hostname,omitempty" json:"hostname,omitempty"`
	Command    StringList        `yaml:"command,omitempty" json:"command,omitempty"`
	Env        map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Volumes    []string          `yaml:"volumes,omitempty" json:"volumes,omitempty"`
	Sysctls    map[string]string `yaml:"sysctls,omitempty" json:"sysctls,omitempty"`
	CapAdd     []string          `yaml:"cap_add,omitempty" json:"cap_add,omitempty"`
	CapDrop    []string          `yaml:"cap_drop,omitempty" json:"cap_drop,omitempty"`
	ForwardKey *bool             `yaml:"forward,omitempty" json:"-"` // as written; nil if not given
	Interfaces InterfaceMap      `yaml:"interfaces,omitempty" json:"interfaces,omitempty"`
	Gateway    StringList        `yaml:"gateway,omitempty" json:"gateway,omitempty"`
	Routes     []*Route          `yaml:"routes,omitempty" json:"routes,omitempty"`
	NAT        *NAT              `yaml:"nat,omitempty" json:"nat,omitempty"`
	Firewall   *Firewall         `yaml:"firewall,omitempty" json:"firewall,omitempty"`
	DNS        []string          `yaml:"dns,omitempty" json:"dns,omitempty"`
	DNSSearch  []string          `yaml:"dns_search,omitempty" json:"dns_search,omitempty"`
	Publish    []string          `yaml:"publish,omitempty" json:"publish,omitempty"`
	DependsOn  []string          `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	Routing    *Routing          `yaml:"routing,omitempty" json:"routing,omitempty"`
	Config     *Config           `yaml:"config,omitempty" json:"config,omitempty"`
	// Group is a label that gathers nodes, such as the AS a router belongs
	// to in a class-wide Internet: a string or a number, carried as written.
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	// Resources limit the node's CPU, memory and processes (cgroups).
	Resources *Resources `yaml:"resources,omitempty" json:"resources,omitempty"`
	// Host pins the node to one host of a cluster (a Kubernetes node's
	// name) on the kubernetes runtime; the one-host runtimes run the whole
	// lab on this machine and do not use it.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`

	Name      string          `yaml:"-" json:"-"`                 // the key under nodes
	Forward   bool            `yaml:"-" json:"forward,omitempty"` // ForwardKey, or defaults.forward
	Caps      Caps            `yaml:"-" json:"-"`                 // capabilities, from the defaults, cap_add and cap_drop
	inherited map[string]bool // keys whose value came from defaults
	Gateways  []netip.Addr    `yaml:"-" json:"-"` // parsed Gateway
	Published []PublishSpec   `yaml:"-" json:"-"` // parsed Publish
}

// Interface is a network interface inside a node. It is attached either to a
// network (a bridge) or to one end of a point-to-point link.
type Interface struct {
	Network string     `yaml:"network,omitempty" json:"network,omitempty"`
	Address StringList `yaml:"address,omitempty" json:"address,omitempty"`
	MAC     string     `yaml:"mac,omitempty" json:"mac,omitempty"`
	MTU     int        `yaml:"mtu,omitempty" json:"mtu,omitempty"`
	// VLAN makes the interface's bridge port an access port of that VLAN;
	// Trunk lists the VLANs it carries tagged. An interface named
	// PARENT.N is on VLAN N of PARENT's network (a sub-interface).
	VLAN  int   `yaml:"vlan,omitempty" json:"vlan,omitempty"`
	Trunk []int `yaml:"trunk,omitempty" json:"trunk,omitempty"`
	// NDPProxy lists IPv6 addresses the node answers neighbour
	// solicitations for on this interface (proxy NDP), so that a host
	// behind it is reachable with an address of this segment.
	NDPProxy []string     `yaml:"ndp_proxy,omitempty" json:"ndp_proxy,omitempty"`
	Proxied  []netip.Addr `yaml:"-" json:"-"` // parsed NDPProxy

	Name   string         `yaml:"-" json:"-"` // the key under interfaces
	Parent string         `yaml:"-" json:"-"` // a sub-interface's parent ("eth0" of "eth0.10")
	VID    int            `yaml:"-" json:"-"` // the VLAN the interface is on: its access VLAN or sub-interface's; 0 untagged
	Tagged []int          `yaml:"-" json:"-"` // VLANs its port carries tagged: Trunk and its sub-interfaces', sorted
	DHCP   bool           `yaml:"-" json:"-"` // address: dhcp, its IPv4 address comes from a DHCP server
	SLAAC  bool           `yaml:"-" json:"-"` // address: slaac, IPv6 addresses from router advertisements
	Addrs  []netip.Prefix `yaml:"-" json:"-"` // parsed and allocated addresses
	Auto   []netip.Prefix `yaml:"-" json:"-"` // the subset of Addrs netlab allocated
	Link   *Link          `yaml:"-" json:"-"` // the link this interface ends, if any
}

// Route is a static route in a node.
type Route struct {
	To  string `yaml:"to" json:"to"` // a prefix, or "default" / "default6"
	Via string `yaml:"via,omitempty" json:"via,omitempty"`
	Dev string `yaml:"dev,omitempty" json:"dev,omitempty"`

	Dst     netip.Prefix `yaml:"-" json:"-"` // parsed To
	Nexthop netip.Addr   `yaml:"-" json:"-"` // parsed Via (zero if none)
}

// NAT is the node's nftables NAT: masquerade and port forwards.
type NAT struct {
	Masquerade []string `yaml:"masquerade,omitempty" json:"masquerade,omitempty"`
	DNAT       []*DNAT  `yaml:"dnat,omitempty" json:"dnat,omitempty"`
}

// DNAT forwards a port arriving on an interface to another address.
type DNAT struct {
	In    string `yaml:"in" json:"in"`
	Proto string `yaml:"proto,omitempty" json:"proto,omitempty"` // tcp (default) or udp
	Port  int    `yaml:"port" json:"port"`
	To    string `yaml:"to" json:"to"` // "addr" or "addr:port" ("[v6]:port")

	ToAddr netip.Addr `yaml:"-" json:"-"`
	ToPort int        `yaml:"-" json:"-"` // Port when To gives none
}

// Link is a point-to-point veth pair between two node interfaces.
type Link struct {
	Endpoints [2]Endpoint `json:"endpoints"`
	Delay     string      `json:"delay,omitempty"`  // e.g. "20ms"
	Jitter    string      `json:"jitter,omitempty"` // e.g. "5ms"
	Loss      string      `json:"loss,omitempty"`   // percent, e.g. "1%" or "0.5"
	Rate      string      `json:"rate,omitempty"`   // e.g. "10mbit"
	// HostAddress is the address(es) of the host's end of a link to the
	// machine itself (endpoint host:IFNAME).
	HostAddress StringList `json:"host_address,omitempty"`

	Impair    Impairment     `json:"-"` // parsed Delay, Jitter, Loss, Rate
	Index     int            `json:"-"` // position under links
	long      bool           // written as a mapping (endpoints: [...])
	HostEnd   int            `json:"-"` // which endpoint is the machine itself (host:IFNAME), or -1
	HostAddrs []netip.Prefix `json:"-"` // parsed HostAddress
}

// Endpoint names one end of a link: node and interface.
type Endpoint struct {
	Node      string `json:"node"`
	Interface string `json:"interface"`
}

func (e Endpoint) String() string {
	if e.Interface == "" {
		return e.Node
	}
	return e.Node + ":" + e.Interface
}

// Impairment is what an impaired link does to frames, in each direction.
type Impairment struct {
	Delay       time.Duration
	Jitter      time.Duration
	LossPercent float64
	RateBytes   uint64 // bytes per second; 0 is unlimited
}

// IsZero reports whether the link is unimpaired.
func (i Impairment) IsZero() bool { return i == Impairment{} }

// String says the impairment as a plan reads it: "delay 10ms ±2ms, loss 1%,
// rate 10mbit".
func (i Impairment) String() string {
	var parts []string
	if i.Delay > 0 {
		d := "delay " + i.Delay.String()
		if i.Jitter > 0 {
			d += " ±" + i.Jitter.String()
		}
		parts = append(parts, d)
	}
	if i.LossPercent > 0 {
		parts = append(parts, fmt.Sprintf("loss %g%%", i.LossPercent))
	}
	if i.RateBytes > 0 {
		bits := float64(i.RateBytes) * 8
		switch {
		case bits >= 1e9:
			parts = append(parts, fmt.Sprintf("rate %ggbit", bits/1e9))
		case bits >= 1e6:
			parts = append(parts, fmt.Sprintf("rate %gmbit", bits/1e6))
		default:
			parts = append(parts, fmt.Sprintf("rate %gkbit", bits/1e3))
		}
	}
	return strings.Join(parts, ", ")
}

// PublishSpec is a parsed "[hostip:]hostport:nodeport[/proto]".
type PublishSpec struct {
	HostIP   netip.Addr
	HostPort int
	NodePort int
	Proto    string
}

func (p PublishSpec) String() string {
	return fmt.Sprintf("%s:%d->%d/%s", p.HostIP, p.HostPort, p.NodePort, p.Proto)
}

// StringList is a YAML value written either as one string or a list of them.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = StringList{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// linkLong is the long form of a link.
type linkLong struct {
	Endpoints   []string   `yaml:"endpoints"`
	Delay       string     `yaml:"delay"`
	Jitter      string     `yaml:"jitter"`
	Loss        string     `yaml:"loss"`
	Rate        string     `yaml:"rate"`
	HostAddress StringList `yaml:"host_address"`
}

// UnmarshalYAML accepts "[a:eth0, b:eth0]" or "{endpoints: [...], delay: ...}".
// Endpoint syntax is checked later, with positions, by the semantic checks.
func (l *Link) UnmarshalYAML(n *yaml.Node) error {
	var long linkLong
	if n.Kind == yaml.SequenceNode {
		if err := n.Decode(&long.Endpoints); err != nil {
			return err
		}
	} else if err := n.Decode(&long); err != nil {
		return err
	} else {
		l.long = true
	}
	for i := 0; i < 2 && i < len(long.Endpoints); i++ {
		l.Endpoints[i] = parseEndpoint(long.Endpoints[i])
	}
	l.Delay, l.Jitter, l.Loss, l.Rate, l.HostAddress = long.Delay, long.Jitter, long.Loss, long.Rate, long.HostAddress
	return nil
}

func parseEndpoint(s string) Endpoint {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return Endpoint{Node: s[:i], Interface: s[i+1:]}
		}
	}
	return Endpoint{Node: s}
}
