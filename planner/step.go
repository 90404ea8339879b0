// Package planner turns a lab into a Plan: typed steps with explicit
// dependencies, in a deterministic order. It is pure: no Docker, no netlink,
// no file system. Apply executes exactly the plan's steps.
package planner

import (
	"fmt"
	"maps"
	"net/netip"
	"path"
	"slices"
	"strings"
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

var kindRank = map[Kind]int{}

func init() {
	for i, k := range []Kind{KindBridge, KindHostFW, KindCreate, KindStart, KindHosts, KindLink, KindRelay, KindHostLink, KindPort, KindMacvlan, KindVLANIf,
		KindAddr, KindRoute, KindNDPProxy, KindNAT, KindFirewall, KindIsolate, KindPublish, KindDHCPD, KindReady, KindLease} {
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
	DHCP    []string          `json:"dhcp,omitempty"`
	DHCPDNS bool              `json:"dhcp_dns,omitempty"`
	Labels  map[string]string `json:"labels"`
	// HostAllowed says a person allowed what the lab asks of the host
	// (lab.Up sets it; never the planner): its volumes are mounted as
	// written, also through links out of the lab's folder, which are
	// otherwise refused when the node is made (trust.ConfineVolumes).
	HostAllowed bool `json:"-"`
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
	PidName string        `json:"pid_name"` // the server's pid file, in the lab's run directory; its leases and log beside it
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
	Members []string    `json:"members"` // host-side port names
	Allow   []AllowRule `json:"allow,omitempty"`
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

// maxDescribed is the most items (addresses, networks) Describe lists: a
// description stays one line however big the lab, and a table of steps
// (netlab plan) does not grow with the square of the lab's size.
const maxDescribed = 10

// some joins items with sep, the first maxDescribed of them and how many
// more there are.
func some(items []string, sep string) string {
	if len(items) <= maxDescribed {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:maxDescribed], sep) + fmt.Sprintf("%sand %d more", sep, len(items)-maxDescribed)
}

// Describe says in words what the step does.
func (s *Step) Describe() string {
	switch s.Kind {
	case KindBridge:
		b := s.Bridge
		if b.VLANFiltering && !b.External {
			return fmt.Sprintf("create bridge %s for network %s, VLAN filtering on", b.Name, b.Network)
		}
		if b.External {
			return fmt.Sprintf("use the host's bridge %s for network %s (external: never created or removed)", b.Name, b.Network)
		}
		return fmt.Sprintf("create bridge %s for network %s", b.Name, b.Network)
	case KindVLANIf:
		v := s.VLANIf
		return fmt.Sprintf("create %s:%s, VLAN %d on %s (802.1Q)", v.End.Node, v.End.Name, v.VID, v.Parent)
	case KindMacvlan:
		m := s.Macvlan
		return fmt.Sprintf("create macvlan %s:%s of host interface %s for network %s", m.End.Node, m.End.Name, m.Parent, m.Network)
	case KindHostLink:
		d := fmt.Sprintf("create veth %s (on this machine) <-> %s:%s", s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name)
		if len(s.HostAddrs) > 0 {
			var as []string
			for _, a := range s.HostAddrs {
				as = append(as, a.String())
			}
			d += ", machine's end " + some(as, " ")
		}
		return d
	case KindHostFW:
		return fmt.Sprintf("accept forwarding within bridge %s in the host firewall", s.Bridge.Name)
	case KindCreate:
		d := fmt.Sprintf("create container %s from %s", s.Container.Name, s.Container.Image)
		if n := len(s.Container.Files); n > 0 {
			dirs := map[string]bool{}
			for f := range s.Container.Files {
				dirs[path.Dir(f)] = true
			}
			d += fmt.Sprintf(", %s in %s", Plural(n, "file"), strings.Join(slices.Sorted(maps.Keys(dirs)), " "))
		}
		if c := s.Container; len(c.DHCP) > 0 {
			d += ", DHCP client on " + some(c.DHCP, " ")
		}
		if c := s.Container; !slices.Equal(c.CapAdd, spec.DefaultCaps) || len(c.CapDrop) > 0 {
			d += ", capabilities " + strings.Join(c.CapAdd, " ")
			if len(c.CapDrop) > 0 {
				d += " (dropped: " + strings.Join(c.CapDrop, " ") + ")"
			}
		}
		return d
	case KindStart:
		return fmt.Sprintf("start container %s", s.Container.Name)
	case KindHosts:
		return fmt.Sprintf("keep /etc/hosts of %s equal to the lab's names", s.Node)
	case KindLink:
		return fmt.Sprintf("create veth %s:%s <-> %s:%s", s.Veth.A.Node, s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name)
	case KindPort:
		d := fmt.Sprintf("create veth %s <-> %s:%s on bridge %s", s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name, s.Veth.Bridge)
		if v := s.Veth.VLAN; v != nil {
			if v.PVID != 0 {
				d += fmt.Sprintf(", access VLAN %d", v.PVID)
			}
			if len(v.Tagged) > 0 {
				d += fmt.Sprintf(", trunk %v", v.Tagged)
			}
		}
		return d
	case KindAddr:
		as := make([]string, len(s.Addr.Addrs))
		for i, a := range s.Addr.Addrs {
			as[i] = a.String()
		}
		if s.Addr.SLAAC {
			as = append(as, "(IPv6 by SLAAC)")
		}
		switch {
		case s.Addr.DHCP && len(as) == 0:
			return fmt.Sprintf("bring %s up (IPv4 by DHCP)", s.Addr.Iface)
		case s.Addr.DHCP:
			return fmt.Sprintf("set %s %s, up (IPv4 by DHCP)", s.Addr.Iface, some(as, " "))
		case len(as) == 0:
			return fmt.Sprintf("bring %s up (no address)", s.Addr.Iface)
		}
		return fmt.Sprintf("set %s %s, up", s.Addr.Iface, some(as, " "))
	case KindRelay:
		r := s.Relay
		return fmt.Sprintf("create veths %s:%s <-> %s <~> %s <-> %s:%s, relay with %s", r.Ends[0].Node, r.Ends[0].Name,
			r.Host[0].Name, r.Host[1].Name, r.Ends[1].Node, r.Ends[1].Name, describeImpairment(r.Spec))
	case KindRoute:
		r := s.Route
		out := "route " + routeDst(r.Dst)
		if r.Via.IsValid() {
			out += " via " + r.Via.String()
		}
		if r.Dev != "" {
			out += " dev " + r.Dev
		}
		return out
	case KindNDPProxy:
		var as []string
		for _, a := range s.NDPProxy.Addrs {
			as = append(as, a.String())
		}
		return fmt.Sprintf("answer neighbour solicitations for %s on %s (proxy NDP)", some(as, " "), s.NDPProxy.Iface)
	case KindFirewall:
		f := s.Firewall
		return fmt.Sprintf("firewall in %s: input %s, forward %s, output %s, %s", s.Node, f.Input, f.Forward, f.Output, Plural(len(f.Rules), "rule"))
	case KindIsolate:
		var parts []string
		for _, n := range s.Isolate.Networks {
			p := fmt.Sprintf("%s (%s)", n.Network, Plural(len(n.Members), "member port"))
			if len(n.Allow) > 0 {
				p += fmt.Sprintf(" allowing %s", Plural(len(n.Allow), "flow"))
			}
			parts = append(parts, p)
		}
		return fmt.Sprintf("isolate members of %s in host table bridge %s", some(parts, ", "), s.Isolate.Table)
	case KindNAT:
		var parts []string
		for _, m := range s.NAT.Masquerade {
			parts = append(parts, "masquerade out "+m)
		}
		for _, d := range s.NAT.DNAT {
			parts = append(parts, fmt.Sprintf("dnat %s %s/%d -> %s", d.In, d.Proto, d.Port, d.To))
		}
		return "nftables table: " + some(parts, ", ")
	case KindPublish:
		p := s.Publish
		d := fmt.Sprintf("publish %s:%d/%s -> port %d", p.HostIP, p.HostPort, p.Proto, p.NodePort)
		for i, a := range p.Dial {
			if i == maxDescribed {
				d += fmt.Sprintf(", else %d more", len(p.Dial)-i)
				break
			}
			d += map[bool]string{true: " at ", false: ", else "}[i == 0] + a.String()
		}
		return d
	case KindDHCPD:
		d := s.DHCPD
		out := fmt.Sprintf("DHCP server %s on bridge %s", d.Addr, d.Bridge)
		if d.Node != "" {
			out = fmt.Sprintf("DHCP server in %s on %s (%s)", d.Node, d.Iface, d.Addr)
		}
		out += fmt.Sprintf(": %s-%s, lease %s", d.First, d.Last, shortDuration(d.Lease))
		if d.Router.IsValid() {
			out += ", gateway " + d.Router.String()
		}
		if len(d.DNS) > 0 {
			out += ", dns"
		}
		for _, a := range d.DNS {
			out += " " + a.String()
		}
		return out
	case KindReady:
		return "release the node's command"
	case KindLease:
		return fmt.Sprintf("wait for %s's DHCP lease on network %s", s.Lease.Iface, s.Lease.Network)
	}
	return string(s.Kind)
}

// shortDuration writes 1h for 1h0m0s and 10m for 10m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

func routeDst(p netip.Prefix) string {
	if p.Bits() == 0 {
		if p.Addr().Is4() {
			return "default"
		}
		return "default6"
	}
	return p.String()
}

func describeImpairment(i spec.Impairment) string {
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
