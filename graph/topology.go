// Package graph draws a lab's topology: nodes with their addresses, bridges
// as Ethernet segments, point-to-point links as edges, routers and NAT
// firewalls marked. It is pure: formats are DOT, Mermaid, JSON and SVG,
// the last laid out here so that nobody needs Graphviz.
package graph

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
)

// Role is what a node is, for drawing.
type Role string

// Roles: a node with NAT rules is a NAT firewall; one that forwards is a
// router; one with its own image or command is a server; the rest are hosts.
const (
	RoleHost   Role = "host"
	RoleServer Role = "server"
	RoleRouter Role = "router"
	RoleNAT    Role = "nat"
	// RoleMachine is the machine netlab runs on, drawn when a link ends on
	// it (host:IFNAME).
	RoleMachine Role = "machine"
)

// Topology is what a picture shows of a lab.
type Topology struct {
	Lab      string     `json:"lab"`
	Nodes    []*Node    `json:"nodes"`
	Networks []*Network `json:"networks"`
	Links    []*Link    `json:"links"`
}

// Node is a container with its interfaces.
type Node struct {
	Name       string   `json:"name"`
	Hostname   string   `json:"hostname,omitempty"`
	Image      string   `json:"image"`
	Role       Role     `json:"role"`
	Interfaces []*Iface `json:"interfaces"`
	Gateways   []string `json:"gateways,omitempty"`
	Masquerade []string `json:"masquerade,omitempty"`
	DNAT       []string `json:"dnat,omitempty"` // "eth0 tcp/8080 -> 192.168.0.10:80"
	Publish    []string `json:"publish,omitempty"`
	Routing    []string `json:"routing,omitempty"`  // "ospf area 0: eth0 eth1", "bgp AS 65001, 2 peers"
	Firewall   []string `json:"firewall,omitempty"` // "firewall: input drop, ...", then a line a rule
}

// Iface is a node interface: on a network, or one end of a link.
type Iface struct {
	Name    string   `json:"name"`
	Network string   `json:"network,omitempty"`
	Peer    string   `json:"peer,omitempty"`  // node:iface at the link's other end
	Addrs   []string `json:"addrs,omitempty"` // "dhcp" first for an IPv4 address by DHCP
	MAC     string   `json:"mac"`
	VLAN    int      `json:"vlan,omitempty"`  // access VLAN of its port
	Trunk   []int    `json:"trunk,omitempty"` // VLANs its port carries tagged
}

// Network is an Ethernet segment.
type Network struct {
	Name    string   `json:"name"`
	Bridge  string   `json:"bridge"`
	Subnets []string `json:"subnets,omitempty"`
	DHCP    string   `json:"dhcp,omitempty"` // "10.0.0.100-10.0.0.199" when netlab serves DHCP
	Members []string `json:"members"`        // node:iface
	// Isolated segments let members reach only routers and the flows in
	// Allow ("h1 -> h3 tcp/80").
	Isolated bool     `json:"isolated,omitempty"`
	Allow    []string `json:"allow,omitempty"`
	External string   `json:"external,omitempty"` // the host's own bridge
	Macvlan  string   `json:"macvlan,omitempty"`  // the host interface whose macvlans members get
}

// Link is a point-to-point link.
type Link struct {
	A      string `json:"a"` // node:iface
	B      string `json:"b"`
	Impair string `json:"impair,omitempty"`
}

// FromLab builds the topology of a loaded lab.
func FromLab(lab *spec.Lab) *Topology {
	t := &Topology{Lab: lab.Name, Nodes: []*Node{}, Networks: []*Network{}, Links: []*Link{}}
	members := map[string][]string{}
	for _, n := range lab.SortedNodes() {
		node := &Node{Name: n.Name, Image: n.Image, Role: role(lab, n)}
		if n.Hostname != n.Name {
			node.Hostname = n.Hostname
		}
		for _, i := range n.SortedInterfaces() {
			fi := &Iface{Name: i.Name, Network: i.Network, MAC: i.MAC, VLAN: i.VLAN, Trunk: i.Tagged}
			if i.DHCP {
				fi.Addrs = append(fi.Addrs, spec.DHCPAddress)
			}
			for _, a := range i.Addrs {
				fi.Addrs = append(fi.Addrs, a.String())
			}
			if i.Link != nil {
				for _, e := range i.Link.Endpoints {
					if e.Node != n.Name || e.Interface != i.Name {
						fi.Peer = e.String()
					}
				}
			}
			if i.Network != "" {
				members[i.Network] = append(members[i.Network], n.Name+":"+i.Name)
			}
			node.Interfaces = append(node.Interfaces, fi)
		}
		for _, g := range n.Gateways {
			node.Gateways = append(node.Gateways, g.String())
		}
		if n.NAT != nil {
			node.Masquerade = n.NAT.Masquerade
			for _, d := range n.NAT.DNAT {
				to := netip.AddrPortFrom(d.ToAddr, uint16(d.ToPort))
				node.DNAT = append(node.DNAT, fmt.Sprintf("%s %s/%d -> %s", d.In, d.Proto, d.Port, to))
			}
		}
		node.Routing = routingText(n)
		node.Firewall = firewallText(n)
		for _, p := range n.Published {
			node.Publish = append(node.Publish, fmt.Sprintf("%s:%d->%d/%s", p.HostIP, p.HostPort, p.NodePort, p.Proto))
		}
		t.Nodes = append(t.Nodes, node)
	}
	var machine *Node
	for _, l := range lab.Links {
		if l.HostEnd < 0 {
			continue
		}
		if machine == nil {
			machine = &Node{Name: spec.HostNode, Image: "-", Role: RoleMachine}
			t.Nodes = append(t.Nodes, machine)
		}
		e := l.Endpoints[l.HostEnd]
		fi := &Iface{Name: e.Interface, Peer: l.Endpoints[1-l.HostEnd].String()}
		for _, a := range l.HostAddrs {
			fi.Addrs = append(fi.Addrs, a.String())
		}
		machine.Interfaces = append(machine.Interfaces, fi)
	}
	for _, name := range lab.SortedNetworks() {
		nw := lab.Networks[name]
		n := &Network{Name: name, Bridge: naming.Bridge(lab.Name, name), Members: members[name], Isolated: nw.Isolated,
			External: nw.External, Macvlan: nw.Macvlan}
		if nw.External != "" {
			n.Bridge = nw.External
		} else if nw.Macvlan != "" {
			n.Bridge = ""
		}
		for _, a := range nw.Allow {
			n.Allow = append(n.Allow, allowText(a))
		}
		if n.Members == nil {
			n.Members = []string{}
		}
		for _, s := range []string{nw.Subnet, nw.Subnet6} {
			if s != "" {
				n.Subnets = append(n.Subnets, s)
			}
		}
		if d := nw.DHCP; d != nil && d.First.IsValid() {
			n.DHCP = d.First.String() + "-" + d.Last.String()
		}
		t.Networks = append(t.Networks, n)
	}
	for _, l := range lab.Links {
		t.Links = append(t.Links, &Link{A: l.Endpoints[0].String(), B: l.Endpoints[1].String(), Impair: impairText(l)})
	}
	return t
}

func role(lab *spec.Lab, n *spec.Node) Role {
	switch {
	case n.NAT != nil && (len(n.NAT.Masquerade) > 0 || len(n.NAT.DNAT) > 0):
		return RoleNAT
	case n.Forward:
		return RoleRouter
	case n.Image != lab.Defaults.Image || len(n.Command) > 0:
		return RoleServer
	}
	return RoleHost
}

func impairText(l *spec.Link) string {
	var parts []string
	if l.Delay != "" {
		d := l.Delay
		if l.Jitter != "" {
			d += "±" + l.Jitter
		}
		parts = append(parts, d)
	}
	if l.Loss != "" {
		loss := strings.TrimSuffix(l.Loss, "%") + "% loss"
		parts = append(parts, loss)
	}
	if l.Rate != "" {
		parts = append(parts, l.Rate)
	}
	return strings.Join(parts, " ")
}

// Node returns the node with the given name, or nil.
func (t *Topology) Node(name string) *Node {
	for _, n := range t.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// counts says how many nodes, networks and links the topology has.
func (t *Topology) counts() string {
	nodes := len(t.Nodes)
	for _, n := range t.Nodes {
		if n.Role == RoleMachine {
			nodes--
		}
	}
	return planner.Plural(nodes, "node") + ", " + planner.Plural(len(t.Networks), "network") + ", " +
		planner.Plural(len(t.Links), "point-to-point link")
}

// JSON is the topology as indented JSON.
func (t *Topology) JSON() []byte {
	data, _ := json.MarshalIndent(t, "", "  ") // plain structs: cannot fail
	return append(data, '\n')
}

// label is the text of a node box: name (and role), host name, addresses.
func (n *Node) label() []string {
	title := n.Name
	if n.Role != RoleHost && n.Name != roleTitle[n.Role] {
		title += " (" + roleTitle[n.Role] + ")"
	}
	lines := []string{title}
	if n.Hostname != "" {
		lines = append(lines, n.Hostname)
	}
	for _, i := range n.Interfaces {
		addrs := strings.Join(i.Addrs, " ")
		if addrs == "" {
			addrs = "(no address)"
		}
		if i.VLAN != 0 {
			addrs += fmt.Sprintf(" [vlan %d]", i.VLAN)
		}
		if len(i.Trunk) > 0 {
			addrs += " [trunk " + strings.Trim(fmt.Sprint(i.Trunk), "[]") + "]"
		}
		lines = append(lines, i.Name+" "+addrs)
	}
	for _, m := range n.Masquerade {
		lines = append(lines, "masquerade out "+m)
	}
	for _, d := range n.DNAT {
		lines = append(lines, "dnat "+d)
	}
	return append(append(lines, n.Routing...), n.Firewall...)
}

// firewallText sums up a node's firewall: the policies, then a line a rule
// ("drop tcp/80 in", "accept tcp/22 10.61.2.0/24 -> srv forward").
func firewallText(n *spec.Node) []string {
	f := n.Firewall
	if f == nil {
		return nil
	}
	out := []string{fmt.Sprintf("firewall: in %s, fwd %s, out %s", f.Input, f.Forward, f.Output)}
	for _, r := range f.Rules {
		what := r.Proto
		if what == "" {
			what = "all"
		}
		if r.Port != "" {
			what += "/" + r.Port
		}
		line := r.Action + " " + what
		if r.From != "" || r.To != "" {
			line += " " + orAny(r.From) + " -> " + orAny(r.To)
		}
		if r.In != "" {
			line += " in " + r.In
		}
		if r.Out != "" {
			line += " out " + r.Out
		}
		out = append(out, line+" ("+r.Chain+")")
	}
	return out
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

func allowText(a *spec.Allow) string {
	s := orAny(a.From) + " -> " + orAny(a.To)
	if a.Proto != "" {
		s += " " + a.Proto
		if a.Port != "" {
			s += "/" + a.Port
		}
	}
	return s
}

// routingText sums up a node's dynamic routing, a line a protocol (an OSPF
// area).
func routingText(n *spec.Node) []string {
	if n.Config != nil && n.Config.FRR != "" {
		return []string{"frr: " + n.Config.FRR}
	}
	r := n.Routing
	if r == nil {
		return nil
	}
	var out []string
	for _, o := range []struct {
		name string
		p    *spec.OSPF
	}{{"ospf", r.OSPF}, {"ospf6", r.OSPF6}} {
		if o.p == nil {
			continue
		}
		var areas []string
		byArea := map[string][]string{}
		for _, i := range o.p.Interfaces {
			a := i.Area
			if a == "" {
				a = o.p.Area
			}
			if _, seen := byArea[a]; !seen {
				areas = append(areas, a)
			}
			byArea[a] = append(byArea[a], i.Name)
		}
		for _, a := range areas {
			out = append(out, fmt.Sprintf("%s area %s: %s", o.name, a, strings.Join(byArea[a], " ")))
		}
	}
	for _, p := range []struct {
		name string
		p    *spec.RIP
	}{{"rip", r.RIP}, {"ripng", r.RIPng}} {
		if p.p != nil {
			out = append(out, p.name+": "+strings.Join(p.p.Interfaces, " "))
		}
	}
	if b := r.BGP; b != nil {
		out = append(out, fmt.Sprintf("bgp AS %d, %s", b.AS, planner.Plural(len(b.Neighbors), "peer")))
	}
	return out
}

var roleTitle = map[Role]string{RoleHost: "host", RoleServer: "server", RoleRouter: "router", RoleNAT: "NAT", RoleMachine: "this machine"}

// label is the text of a network: name, subnets, DHCP range.
func (n *Network) label() string {
	s := strings.Join(append([]string{n.Name}, n.Subnets...), " ")
	if n.DHCP != "" {
		s += " dhcp " + n.DHCP
	}
	if n.External != "" {
		s += " (host bridge " + n.External + ")"
	}
	if n.Macvlan != "" {
		s += " (macvlans of " + n.Macvlan + ")"
	}
	if n.Isolated {
		s += " (isolated"
		if len(n.Allow) > 0 {
			s += "; allows " + strings.Join(n.Allow, ", ")
		}
		s += ")"
	}
	return s
}

type roleStyle struct{ fill, stroke string }

var styles = map[Role]roleStyle{
	RoleHost:    {"#eef3fb", "#4a6fa5"},
	RoleServer:  {"#f3e8f7", "#7b3f99"},
	RoleRouter:  {"#e8f5e9", "#2e7d32"},
	RoleNAT:     {"#fff3e0", "#d35400"},
	RoleMachine: {"#f5f5f5", "#616161"},
}

const (
	segmentColor  = "#455a64"
	isolatedColor = "#8e2c2c" // an isolated segment: members reach only routers
)

func splitEnd(e string) (node, iface string) {
	i := strings.LastIndex(e, ":")
	return e[:i], e[i+1:]
}
