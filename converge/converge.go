// Package converge compares a lab's plan with what runs of it on the host
// and lists what up must create, make again and remove so that the lab
// matches its file. It is pure: the observed state comes in as a value
// (provider.Observe reads it), and what each step keeps on the host as
// an Owned (steps.Owns says it for each kind of step), so that every
// rule is tested without root.
package converge

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Observed is what runs of a lab on the host.
type Observed struct {
	Nodes     map[string]Node `json:"nodes"`      // by node name
	HostLinks []HostLink      `json:"host_links"` // host interfaces whose alias names the lab
	Helpers   []string        `json:"helpers"`    // pid files in the lab's run directory (forwarders, relays, DHCP servers)
}

// Node is a node's container as observed.
type Node struct {
	Container string `json:"container"`
	Image     string `json:"image"`
	Running   bool   `json:"running"`
	// Config is what the container was made from; nil for a container
	// made by a netlab that did not record it (it is then kept).
	Config *planner.Config `json:"config,omitempty"`
	// InitGone: the netlab binary the container runs as its init was
	// removed, so it cannot start again: up makes a stopped one again.
	InitGone bool `json:"init_gone,omitempty"`
	// Interfaces inside the node's namespace, when it runs (lo left out).
	Interfaces map[string][]Addr `json:"interfaces,omitempty"`
	// Outside lists those of its interfaces made from outside its
	// namespace: a veth whose peer, or a macvlan whose parent, lives in
	// another one. Only netlab makes those; a student's own interfaces
	// (made inside the node) are never among them.
	Outside []string `json:"outside,omitempty"`
	// Links are the MAC and MTU of its interfaces.
	Links map[string]Link `json:"links,omitempty"`
	// Routes are the routes netlab put in the node (protocol "static" in
	// the main table); a student's own routes are not among them.
	Routes []planner.Route `json:"routes,omitempty"`
}

// Link is what up sets on a node's interface besides its addresses.
type Link struct {
	MAC string `json:"mac"`
	MTU int    `json:"mtu"`
}

// Addr is an address on a node's interface.
type Addr struct {
	Prefix netip.Prefix `json:"prefix"`
	// Dynamic addresses have a lifetime: a DHCP lease, SLAAC. up leaves
	// them to whoever made them.
	Dynamic bool `json:"dynamic,omitempty"`
}

// HostLink is a host interface netlab made.
type HostLink struct {
	Name   string `json:"name"`
	Alias  string `json:"alias"`
	Bridge bool   `json:"bridge,omitempty"`
}

// Action is what a change does.
type Action string

// Actions.
const (
	Create   Action = "create"
	Recreate Action = "recreate" // remove, then create: its configuration changed
	Start    Action = "start"
	Remove   Action = "remove"
	Add      Action = "add"
	Set      Action = "set" // an interface's MAC or MTU
)

// Object is what a change is about.
type Object string

// Objects.
const (
	ObjNode      Object = "node"
	ObjNetwork   Object = "network"   // a lab bridge
	ObjInterface Object = "interface" // a node's interface (when the node is kept)
	ObjAddress   Object = "address"
	ObjRoute     Object = "route"
	ObjHostLink  Object = "host interface" // a bridge port, relay end or DHCP server port
	ObjHelper    Object = "helper"         // a forwarder, relay or DHCP server process
)

// Change is one difference between plan and host.
type Change struct {
	Action  Action `json:"action"`
	Object  Object `json:"object"`
	Node    string `json:"node,omitempty"`
	Iface   string `json:"iface,omitempty"`
	Network string `json:"network,omitempty"`
	// Name is what is created or removed: container, bridge, address,
	// host interface or pid file name.
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// Removal tells whether up carries the change out before the plan runs
// (removals and the removal half of a recreate); everything else the
// plan's steps do.
func (c Change) Removal() bool { return c.Action == Remove || c.Action == Recreate }

// What names the object in words: "node b", "address b:eth1".
func (c Change) What() string {
	switch c.Object {
	case ObjNode:
		return "node " + c.Node
	case ObjNetwork:
		return "network " + c.Network
	case ObjInterface:
		return "interface " + c.Node + ":" + c.Iface
	case ObjAddress:
		return "address " + c.Node + ":" + c.Iface
	case ObjRoute:
		return "route " + c.Node
	}
	return string(c.Object)
}

// Owned is what one step of a plan keeps on the host, as Diff compares it
// with what runs; steps.Owns says it for each kind of step. At most one
// of Node, Addr, Route and Network is set.
type Owned struct {
	Node      *planner.Container // the step's node's container
	Addr      *planner.Addr      // addresses on an interface of the step's node
	Route     *planner.Route     // a route in the step's node
	Network   *planner.Bridge    // a lab bridge
	HostLinks []string           // host interfaces, by alias
	Helpers   []string           // helper processes, by pid file name
}

// Diff lists what differs between the plan and the observed lab: nodes,
// networks and node interfaces to create, nodes to make again, addresses
// to add, and everything of the lab the plan no longer has to remove.
// owns says what each step keeps on the host (steps.Owns). The order is
// stable: by action (removals first), then object and name.
func Diff(p *planner.Plan, o Observed, owns func(*planner.Step) Owned) []Change {
	var out []Change
	renewed := map[string]bool{} // nodes whose container goes: created, made again or removed
	want := map[string]bool{}    // host interface aliases the plan makes
	helpers := map[string]bool{} // pid files the plan's helpers keep
	bridges := map[string]*planner.Bridge{}
	owned := make([]Owned, len(p.Steps))
	for i, s := range p.Steps {
		w := owns(s)
		owned[i] = w
		for _, alias := range w.HostLinks {
			want[alias] = true
		}
		for _, h := range w.Helpers {
			helpers[h] = true
		}
		if w.Network != nil {
			bridges[w.Network.Alias] = w.Network
		}
		if w.Node != nil {
			c, renew := nodeChange(s.Node, w.Node, o.Nodes)
			if renew {
				renewed[s.Node] = true
			}
			if c != nil {
				out = append(out, *c)
			}
		}
	}
	for _, node := range sortedKeys(o.Nodes) {
		if p.Step("create:"+node) == nil {
			renewed[node] = true
			out = append(out, Change{Action: Remove, Object: ObjNode, Node: node, Name: o.Nodes[node].Container})
		}
	}
	// Interfaces, addresses and routes of the nodes that keep a running
	// container.
	routes := map[string][]planner.Route{}
	for i, s := range p.Steps {
		if r := owned[i].Route; r != nil {
			routes[s.Node] = append(routes[s.Node], *r)
		}
		if a := owned[i].Addr; a != nil && !renewed[s.Node] && o.Nodes[s.Node].Running {
			out = append(out, addrChanges(s.Node, a, o.Nodes[s.Node].Interfaces)...)
		}
	}
	ifaces := p.Interfaces()
	for _, node := range sortedKeys(o.Nodes) {
		n := o.Nodes[node]
		if renewed[node] || !n.Running {
			continue
		}
		planned := map[string]planner.VethEnd{}
		for _, e := range ifaces[node] {
			planned[e.Name] = e
		}
		for _, name := range n.Outside {
			// A bridge port or relayed end goes with its host end, below.
			if _, ok := planned[name]; !ok && !hostEnded(p.Lab, node, name, o.HostLinks) {
				out = append(out, Change{Action: Remove, Object: ObjInterface, Node: node, Iface: name, Name: name})
			}
		}
		for _, e := range ifaces[node] {
			have, ok := n.Links[e.Name]
			if !ok {
				continue
			}
			if e.MAC != "" && !strings.EqualFold(e.MAC, have.MAC) {
				out = append(out, Change{Action: Set, Object: ObjInterface, Node: node, Iface: e.Name, Name: e.Name, Detail: "mac " + strings.ToLower(e.MAC) + " (now " + have.MAC + ")"})
			}
			if e.MTU != 0 && e.MTU != have.MTU {
				out = append(out, Change{Action: Set, Object: ObjInterface, Node: node, Iface: e.Name, Name: e.Name, Detail: fmt.Sprintf("mtu %d (now %d)", e.MTU, have.MTU)})
			}
		}
		out = append(out, routeChanges(node, routes[node], n.Routes)...)
	}
	// Host interfaces: bridges by network, the rest by name.
	have := map[string]bool{}
	for _, l := range o.HostLinks {
		have[l.Alias] = true
		if want[l.Alias] {
			continue
		}
		if network, ok := strings.CutPrefix(l.Alias, naming.BridgeAlias(p.Lab, "")); ok && l.Bridge {
			out = append(out, Change{Action: Remove, Object: ObjNetwork, Network: network, Name: l.Name})
			continue
		}
		if node := aliasNode(p.Lab, l.Alias); node != "" && renewed[node] {
			continue // goes with the node's container
		}
		out = append(out, Change{Action: Remove, Object: ObjHostLink, Name: l.Name, Detail: strings.TrimPrefix(l.Alias, naming.AliasPrefix)})
	}
	for _, alias := range sortedKeys(bridges) {
		if !have[alias] {
			b := bridges[alias]
			out = append(out, Change{Action: Create, Object: ObjNetwork, Network: b.Network, Name: b.Name})
		}
	}
	for _, h := range o.Helpers {
		if !helpers[h] {
			out = append(out, Change{Action: Remove, Object: ObjHelper, Name: h})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := rank[a.Action], rank[b.Action]; ra != rb {
			return ra < rb
		}
		if a.Object != b.Object {
			return objRank[a.Object] < objRank[b.Object]
		}
		return a.Node+"\x00"+a.Iface+"\x00"+a.Network+"\x00"+a.Name < b.Node+"\x00"+b.Iface+"\x00"+b.Network+"\x00"+b.Name
	})
	return out
}

// nodeChange compares a node's container with the plan's: it is created,
// made again (renew), or started; nil when it is as planned and runs.
func nodeChange(node string, c *planner.Container, nodes map[string]Node) (change *Change, renew bool) {
	n, ok := nodes[node]
	cfg := c.Config()
	switch {
	case !ok:
		return &Change{Action: Create, Object: ObjNode, Node: node, Name: c.Name, Detail: "image " + cfg.Image}, true
	case n.InitGone && !n.Running: // a running one gets it back (engine.RestoreInits)
		return &Change{Action: Recreate, Object: ObjNode, Node: node, Name: n.Container,
			Detail: "the netlab binary it ran as its init is gone"}, true
	case n.Config != nil && len(n.Config.Differences(cfg)) > 0:
		return &Change{Action: Recreate, Object: ObjNode, Node: node, Name: n.Container,
			Detail: strings.Join(n.Config.Differences(cfg), "; ")}, true
	case !n.Running:
		return &Change{Action: Start, Object: ObjNode, Node: node, Name: n.Container}, false
	}
	return nil, false
}

var rank = map[Action]int{Remove: 0, Recreate: 1, Create: 2, Start: 3, Add: 4, Set: 5}

var objRank = map[Object]int{ObjHelper: 0, ObjNode: 1, ObjRoute: 2, ObjAddress: 3, ObjInterface: 4, ObjHostLink: 5, ObjNetwork: 6}

// routeChanges compares the routes netlab put in a node with the plan's.
func routeChanges(node string, want, have []planner.Route) []Change {
	var out []Change
	for _, r := range have {
		if !slices.ContainsFunc(want, func(w planner.Route) bool { return RouteMatches(w, r) }) {
			out = append(out, Change{Action: Remove, Object: ObjRoute, Node: node, Iface: r.Dev, Name: r.String()})
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(have, func(r planner.Route) bool { return RouteMatches(w, r) }) {
			out = append(out, Change{Action: Add, Object: ObjRoute, Node: node, Iface: w.Dev, Name: w.String()})
		}
	}
	return out
}

// RouteMatches tells whether a route in the kernel (which always names
// its interface) is the plan's route want (which may leave it to the
// kernel).
func RouteMatches(want, have planner.Route) bool {
	return want.Dst == have.Dst && want.Via == have.Via && (want.Dev == "" || want.Dev == have.Dev)
}

// hostEnded tells whether node:iface's peer is one of the lab's host
// interfaces (a bridge port or a relayed link's end).
func hostEnded(lab, node, iface string, links []HostLink) bool {
	return slices.ContainsFunc(links, func(l HostLink) bool {
		return l.Alias == naming.PortAlias(lab, node, iface) || l.Alias == naming.RelayAlias(lab, node, iface)
	})
}

// addrChanges compares an interface's addresses with the plan's. Addresses
// up leaves alone: IPv6 link-local ones (the kernel's), dynamic ones
// (DHCP, SLAAC), and IPv4 ones on an interface that takes its address by
// DHCP.
func addrChanges(node string, a *planner.Addr, ifaces map[string][]Addr) []Change {
	have, ok := ifaces[a.Iface]
	if !ok {
		return []Change{{Action: Create, Object: ObjInterface, Node: node, Iface: a.Iface, Name: a.Iface}}
	}
	var out []Change
	for _, x := range have {
		switch {
		case slices.Contains(a.Addrs, x.Prefix), x.Dynamic, x.Prefix.Addr().IsLinkLocalUnicast(),
			a.DHCP && x.Prefix.Addr().Is4():
			continue
		}
		out = append(out, Change{Action: Remove, Object: ObjAddress, Node: node, Iface: a.Iface, Name: x.Prefix.String()})
	}
	for _, p := range a.Addrs {
		if !slices.ContainsFunc(have, func(x Addr) bool { return x.Prefix == p }) {
			out = append(out, Change{Action: Add, Object: ObjAddress, Node: node, Iface: a.Iface, Name: p.String()})
		}
	}
	return out
}

// aliasNode is the node named in a port or relay alias of the lab, or "".
func aliasNode(lab, alias string) string {
	for _, kind := range []string{"port", "relay"} {
		if rest, ok := strings.CutPrefix(alias, naming.AliasPrefix+lab+":"+kind+":"); ok {
			node, _, _ := strings.Cut(rest, ":")
			return node
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseConfig reads a container's configuration label; nil if it has none
// or cannot be read.
func ParseConfig(label string) *planner.Config {
	if label == "" {
		return nil
	}
	var c planner.Config
	if json.Unmarshal([]byte(label), &c) != nil {
		return nil
	}
	return &c
}
