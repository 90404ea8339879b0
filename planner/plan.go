package planner

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/spec"
)

// Plan is the ordered steps that bring a lab up.
type Plan struct {
	Lab   string  `json:"lab"`
	File  string  `json:"file,omitempty"`
	Hosts []Host  `json:"hosts"` // /etc/hosts of every node
	Steps []*Step `json:"steps"` // dependencies before dependents
	// VLANs says how the lab's VLANs are made, when it has any: VLANTagged
	// or VLANBridges.
	VLANs VLANMode `json:"vlans,omitempty"`

	byID map[string]*Step
}

// Step returns the step with the given ID, or nil.
func (p *Plan) Step(id string) *Step { return p.byID[id] }

// Count returns how many steps of a kind the plan has.
func (p *Plan) Count(k Kind) int {
	n := 0
	for _, s := range p.Steps {
		if s.Kind == k {
			n++
		}
	}
	return n
}

// Interfaces lists, by node, the interfaces the plan puts in each node
// (links, bridge ports, host links, macvlans, VLAN sub-interfaces, relayed
// ends), sorted by name.
func (p *Plan) Interfaces() map[string][]VethEnd {
	out := map[string][]VethEnd{}
	add := func(e VethEnd) {
		if e.Node != "" && !slices.ContainsFunc(out[e.Node], func(x VethEnd) bool { return x.Name == e.Name }) {
			out[e.Node] = append(out[e.Node], e)
		}
	}
	for _, s := range p.Steps {
		switch {
		case s.Veth != nil:
			add(s.Veth.A)
			add(s.Veth.B)
		case s.Macvlan != nil:
			add(s.Macvlan.End)
		case s.VLANIf != nil:
			add(s.VLANIf.End)
		case s.Relay != nil:
			add(s.Relay.Ends[0])
			add(s.Relay.Ends[1])
		}
	}
	for _, ends := range out {
		slices.SortFunc(ends, func(a, b VethEnd) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}

// Summary is one line: what the plan builds.
func (p *Plan) Summary() string {
	s := fmt.Sprintf("lab %s: %s, %s, %s, %s", p.Lab, Plural(p.Count(KindCreate), "container"),
		Plural(p.Count(KindBridge), "bridge"), Plural(p.Count(KindLink), "point-to-point link"), Plural(len(p.Steps), "step"))
	if p.VLANs != "" {
		s += "; VLANs: " + p.VLANs.String()
	}
	return s
}

// VLANMode is how VLANs are made.
type VLANMode string

const (
	// VLANTagged: 802.1Q tags, VLAN filtering on the lab bridge, 802.1Q
	// sub-interfaces in the nodes.
	VLANTagged VLANMode = "tagged"
	// VLANBridges: for kernels without 802.1Q devices or bridge VLAN
	// filtering, one lab bridge per VLAN and a veth per sub-interface:
	// VLANs stay apart and PARENT.N works for IP, but no tag is on the wire.
	VLANBridges VLANMode = "bridges"
)

func (m VLANMode) String() string {
	if m == VLANTagged {
		return "802.1Q tags (VLAN filtering on the bridges)"
	}
	return "one bridge per VLAN (this kernel has no 802.1Q devices or bridge VLAN filtering)"
}

// Options are what the planner needs to know of the machine.
type Options struct {
	// TaggedVLANs: the kernel has 802.1Q devices and bridge VLAN filtering.
	TaggedVLANs bool
}

// Plural writes "1 link", "2 links".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Build plans a lab from scratch (nothing of it exists yet).
func Build(lab *spec.Lab) (*Plan, error) { return BuildWith(lab, Options{}) }

// BuildWith plans a lab for a machine that has what opts say.
func BuildWith(lab *spec.Lab, opts Options) (*Plan, error) {
	b := &builder{lab: lab, steps: map[string]*Step{}, opts: opts, readyDeps: map[string][]string{}, file: absPath(lab.File)}
	vlans := lab.NetworkVLANs()
	for _, name := range lab.SortedNetworks() {
		b.network(name, lab.Networks[name], vlans[name])
	}
	for i, l := range lab.Links {
		b.link(i, l)
	}
	b.isolate()
	for _, n := range lab.SortedNodes() {
		b.node(n)
	}
	steps, err := order(b.steps)
	if err != nil {
		return nil, err
	}
	p := &Plan{Lab: lab.Name, File: lab.File, Hosts: hosts(lab), Steps: steps, byID: b.steps}
	if lab.UsesVLANs() {
		p.VLANs = VLANBridges
		if opts.TaggedVLANs {
			p.VLANs = VLANTagged
		}
	}
	return p, nil
}

type builder struct {
	lab   *spec.Lab
	steps map[string]*Step
	opts  Options
	// readyDeps are more steps a node's ready step waits for (sub-interfaces
	// made for trunk VLANs).
	readyDeps map[string][]string
	file      string // the lab file's absolute path
}

func (b *builder) add(s *Step) *Step {
	if s.Deps == nil {
		s.Deps = []string{}
	}
	b.steps[s.ID] = s
	return s
}

// vlanSegment names VLAN vid of a network where it is a bridge of its own.
func vlanSegment(network string, vid int) string { return fmt.Sprintf("%s.v%d", network, vid) }

// port plans how an interface on a network is wired, and returns the
// step's ID: a veth from its bridge (the VLAN's bridge, for an access port
// or a sub-interface without tagging), or an 802.1Q sub-interface on its
// parent. Trunk VLANs without a sub-interface in the file get one where
// VLANs are bridges, so that the node has PARENT.N as with tags.
func (b *builder) port(n *spec.Node, i *spec.Interface, start string) string {
	lab := b.lab.Name
	id := "port:" + n.Name + ":" + i.Name
	if i.Parent != "" && b.opts.TaggedVLANs {
		b.add(&Step{ID: id, Kind: KindVLANIf, Node: n.Name, Deps: []string{"port:" + n.Name + ":" + i.Parent},
			VLANIf: &VLANIf{Parent: i.Parent, VID: i.VID, End: VethEnd{Node: n.Name, Name: i.Name, MAC: i.MAC, MTU: i.MTU}}})
		return id
	}
	seg := i.Network
	if i.VID != 0 && !b.opts.TaggedVLANs {
		seg = vlanSegment(i.Network, i.VID)
	}
	v := &Veth{
		A:      VethEnd{Name: naming.Port(lab, n.Name, i.Name), Alias: naming.PortAlias(lab, n.Name, i.Name), MTU: i.MTU},
		B:      VethEnd{Node: n.Name, Name: i.Name, MAC: i.MAC, MTU: i.MTU},
		Bridge: b.bridgeName(i.Network),
	}
	if seg != i.Network {
		v.Bridge = naming.Bridge(lab, seg)
	}
	if b.opts.TaggedVLANs && (i.VID != 0 || len(i.Tagged) > 0) {
		v.VLAN = &PortVLAN{PVID: i.VID, Tagged: i.Tagged}
	}
	b.add(&Step{ID: id, Kind: KindPort, Node: n.Name, Deps: []string{start, "bridge:" + seg}, Veth: v})
	if !b.opts.TaggedVLANs {
		for _, vid := range i.Tagged {
			sub := fmt.Sprintf("%s.%d", i.Name, vid)
			if n.Interfaces[sub] != nil {
				continue
			}
			vseg := vlanSegment(i.Network, vid)
			sid := "port:" + n.Name + ":" + sub
			b.add(&Step{ID: sid, Kind: KindPort, Node: n.Name, Deps: []string{start, "bridge:" + vseg}, Veth: &Veth{
				A:      VethEnd{Name: naming.Port(lab, n.Name, sub), Alias: naming.PortAlias(lab, n.Name, sub), MTU: i.MTU},
				B:      VethEnd{Node: n.Name, Name: sub, MTU: i.MTU},
				Bridge: naming.Bridge(lab, vseg),
			}})
			b.add(&Step{ID: addrID(n.Name, sub), Kind: KindAddr, Node: n.Name, Addr: &Addr{Iface: sub}, Deps: []string{sid}})
			b.readyDeps[n.Name] = append(b.readyDeps[n.Name], addrID(n.Name, sub))
		}
	}
	return id
}

// bridgeName is the host bridge of a network: the lab's own, or the
// external one the file names.
func (b *builder) bridgeName(network string) string {
	if ext := b.lab.Networks[network].External; ext != "" {
		return ext
	}
	return naming.Bridge(b.lab.Name, network)
}

// network plans a network's bridges: its own, and where VLANs are bridges
// one per VLAN used on it.
func (b *builder) network(name string, nw *spec.Network, vlans []int) {
	if nw.Macvlan != "" {
		return // no bridge: each member's macvlan is made with its node
	}
	br := &Bridge{Network: name, Name: b.bridgeName(name), External: nw.External != "", VLANFiltering: b.opts.TaggedVLANs && len(vlans) > 0}
	if !br.External {
		br.Alias, br.MTU, br.MAC = naming.BridgeAlias(b.lab.Name, name), nw.MTU, bridgeMAC(br.Name)
	}
	if !b.opts.TaggedVLANs {
		for _, vid := range vlans { // one lab bridge per VLAN
			seg := vlanSegment(name, vid)
			vb := &Bridge{Network: seg, Name: naming.Bridge(b.lab.Name, seg), Alias: naming.BridgeAlias(b.lab.Name, seg), MTU: nw.MTU}
			vb.MAC = bridgeMAC(vb.Name)
			b.add(&Step{ID: "bridge:" + seg, Kind: KindBridge, Bridge: vb})
			b.add(&Step{ID: "hostfw:" + seg, Kind: KindHostFW, Bridge: vb, Deps: []string{"bridge:" + seg}})
		}
	}
	id := "bridge:" + name
	b.add(&Step{ID: id, Kind: KindBridge, Bridge: br})
	b.add(&Step{ID: "hostfw:" + name, Kind: KindHostFW, Bridge: br, Deps: []string{id}})
	if d := nw.DHCP; d != nil {
		b.dhcpd(name, br, d)
	}
}

// dhcpd adds the step that runs netlab's DHCP server of a network: in a
// namespace of its own on the bridge, or in the server node's namespace
// once its interface there has its address.
func (b *builder) dhcpd(network string, br *Bridge, d *spec.DHCP) {
	lab := b.lab.Name
	s := &DHCPD{
		Network: network, Addr: d.ServerAddr, First: d.First, Last: d.Last, Router: d.Router, DNS: d.DNSAddrs,
		Lease: d.LeaseTime, PidName: "dhcpd-" + network + ".pid",
	}
	var deps []string
	if d.Server != "" {
		s.Node, s.Iface = d.Server, d.ServerIface
		deps = []string{addrID(d.Server, d.ServerIface)}
	} else {
		port := naming.DHCP(lab, network)
		s.Iface, s.Bridge, s.MAC = "eth0", br.Name, bridgeMAC(port)
		s.Port = &VethEnd{Name: port, Alias: naming.DHCPAlias(lab, network), MTU: br.MTU}
		deps = []string{"bridge:" + network, "hostfw:" + network}
		// On a cluster it runs on the host of the network's first node,
		// whose bridge there the other hosts' are joined to.
	first:
		for _, n := range b.lab.SortedNodes() {
			for _, i := range n.SortedInterfaces() {
				if i.Network == network {
					s.Beside = n.Name
					deps = append(deps, "start:"+n.Name)
					break first
				}
			}
		}
	}
	b.add(&Step{ID: "dhcpd:" + network, Kind: KindDHCPD, Node: d.Server, DHCPD: s, Deps: deps})
}

// bridgeMAC fixes a bridge's MAC, derived from its name (locally administered).
func bridgeMAC(name string) string {
	h := name[len(name)-8:]
	return fmt.Sprintf("02:4e:%s:%s:%s:%s", h[0:2], h[2:4], h[4:6], h[6:8])
}

func linkID(l *spec.Link) string {
	return "link:" + l.Endpoints[0].String() + "=" + l.Endpoints[1].String()
}

func (b *builder) link(i int, l *spec.Link) {
	end := func(e spec.Endpoint) VethEnd {
		iface := b.lab.Nodes[e.Node].Interfaces[e.Interface]
		return VethEnd{Node: e.Node, Name: e.Interface, MAC: iface.MAC, MTU: iface.MTU}
	}
	id := linkID(l)
	if l.HostEnd >= 0 {
		h, e := l.Endpoints[l.HostEnd], l.Endpoints[1-l.HostEnd]
		b.add(&Step{ID: id, Kind: KindHostLink, Node: e.Node, Deps: []string{"start:" + e.Node},
			Veth:      &Veth{A: VethEnd{Name: h.Interface, Alias: naming.HostLinkAlias(b.lab.Name, h.Interface)}, B: end(e)},
			HostAddrs: l.HostAddrs})
		return
	}
	a, z := l.Endpoints[0], l.Endpoints[1]
	deps := []string{"start:" + a.Node, "start:" + z.Node}
	if l.Impair.IsZero() {
		b.add(&Step{ID: id, Kind: KindLink, Node: a.Node, Veth: &Veth{A: end(a), B: end(z)}, Deps: deps})
		return
	}
	r := &Relay{Spec: l.Impair, PidName: "relay-" + naming.Relay(b.lab.Name, a.Node, a.Interface) + ".pid"}
	for k, e := range l.Endpoints {
		r.Ends[k] = end(e)
		r.Host[k] = VethEnd{Name: naming.Relay(b.lab.Name, e.Node, e.Interface), Alias: naming.RelayAlias(b.lab.Name, e.Node, e.Interface), MTU: r.Ends[k].MTU}
	}
	b.add(&Step{ID: id, Kind: KindRelay, Node: a.Node, Relay: r, Deps: deps})
}

func (b *builder) node(n *spec.Node) {
	lab := b.lab.Name
	c := &Container{
		Name: naming.Container(lab, n.Name), Image: n.Image, Hostname: n.Hostname,
		Command: n.Command, Env: n.Env, Volumes: volumes(b.lab, n), Sysctls: sysctls(n),
		DNS: n.DNS, DNSSearch: n.DNSSearch, Files: nodeFiles(n), CapAdd: n.Caps.Add, CapDrop: n.Caps.Drop,
		Resources: NodeResources(n.Resources), Host: n.Host,
		Labels: map[string]string{naming.LabelLab: lab, naming.LabelNode: n.Name, naming.LabelFile: b.file},
	}
	for _, i := range n.SortedInterfaces() {
		if i.DHCP {
			c.DHCP = append(c.DHCP, i.Name)
			c.DHCPDNS = len(n.DNS) == 0 // a node's own dns wins
			if nw := b.lab.Networks[i.Network]; nw != nil && nw.DHCP != nil {
				b.add(&Step{ID: "lease:" + n.Name + ":" + i.Name, Kind: KindLease, Node: n.Name, Lease: &Lease{Iface: i.Name, Network: i.Network},
					Deps: []string{"ready:" + n.Name, "dhcpd:" + i.Network}})
			}
		}
	}
	create := b.add(&Step{ID: "create:" + n.Name, Kind: KindCreate, Node: n.Name, Container: c})
	start := b.add(&Step{ID: "start:" + n.Name, Kind: KindStart, Node: n.Name, Container: c, Deps: []string{create.ID}})
	for _, d := range n.DependsOn {
		start.Deps = append(start.Deps, "ready:"+d)
	}
	// /etc/hosts is written at creation; this step rewrites it when the
	// lab's names or addresses changed since (up on an edited file).
	hostsStep := b.add(&Step{ID: "hosts:" + n.Name, Kind: KindHosts, Node: n.Name, Deps: []string{start.ID}})
	ready := []string{start.ID, hostsStep.ID}
	for _, i := range n.SortedInterfaces() {
		var wired string
		if nw := b.lab.Networks[i.Network]; nw != nil && nw.Macvlan != "" {
			wired = b.add(&Step{ID: "port:" + n.Name + ":" + i.Name, Kind: KindMacvlan, Node: n.Name, Deps: []string{start.ID},
				Macvlan: &Macvlan{Parent: nw.Macvlan, Network: i.Network, End: VethEnd{Node: n.Name, Name: i.Name, MAC: i.MAC, MTU: i.MTU}}}).ID
		} else if i.Network != "" {
			wired = b.port(n, i, start.ID)
		} else {
			wired = linkID(i.Link)
		}
		addr := b.add(&Step{ID: addrID(n.Name, i.Name), Kind: KindAddr, Node: n.Name,
			Addr: &Addr{Iface: i.Name, Addrs: i.Addrs, DHCP: i.DHCP, SLAAC: i.SLAAC}, Deps: []string{wired}})
		ready = append(ready, addr.ID)
		if len(i.Proxied) > 0 {
			ready = append(ready, b.add(&Step{ID: "ndpproxy:" + n.Name + ":" + i.Name, Kind: KindNDPProxy, Node: n.Name,
				NDPProxy: &NDPProxy{Iface: i.Name, Addrs: i.Proxied}, Deps: []string{addr.ID}}).ID)
		}
	}
	if len(n.Gateways) > 0 || len(n.Routes) > 0 {
		rt := &nodeRoutes{node: n, on: spec.NewOnLink(n)}
		for _, o := range n.Routes {
			if !o.Nexthop.IsValid() && o.Dev != "" {
				rt.dev = append(rt.dev, o)
			}
		}
		for _, gw := range n.Gateways {
			dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if gw.Is6() {
				dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			ready = append(ready, b.route(rt, &Route{Dst: dst, Via: gw}).ID)
		}
		for _, r := range n.Routes {
			ready = append(ready, b.route(rt, &Route{Dst: r.Dst, Via: r.Nexthop, Dev: r.Dev}).ID)
		}
	}
	if n.NAT != nil && (len(n.NAT.Masquerade) > 0 || len(n.NAT.DNAT) > 0) {
		nat := &NAT{Masquerade: n.NAT.Masquerade}
		for _, d := range n.NAT.DNAT {
			nat.DNAT = append(nat.DNAT, DNAT{In: d.In, Proto: d.Proto, Port: d.Port, To: netip.AddrPortFrom(d.ToAddr, uint16(d.ToPort))})
		}
		ready = append(ready, b.add(&Step{ID: "nat:" + n.Name, Kind: KindNAT, Node: n.Name, NAT: nat, Deps: []string{start.ID}}).ID)
	}
	if fw := n.Firewall; fw != nil {
		f := &Firewall{Input: fw.Input, Forward: fw.Forward, Output: fw.Output}
		for _, r := range fw.Rules {
			f.Rules = append(f.Rules, FirewallRule{Chain: r.Chain, Action: r.Action, Proto: r.Proto, PortMin: r.PortMin, PortMax: r.PortMax,
				From: r.FromNets, To: r.ToNets, In: r.In, Out: r.Out, Families: spec.RuleFamilies(r)})
		}
		ready = append(ready, b.add(&Step{ID: "firewall:" + n.Name, Kind: KindFirewall, Node: n.Name, Firewall: f, Deps: []string{start.ID}}).ID)
	}
	for _, i := range n.SortedInterfaces() {
		if nw := b.lab.Networks[i.Network]; nw != nil && nw.Isolated {
			ready = append(ready, isolateID) // traffic is filtered before the node's command starts
			break
		}
	}
	for _, p := range n.Published {
		id := fmt.Sprintf("publish:%s:%d/%s", n.Name, p.HostPort, p.Proto)
		b.add(&Step{ID: id, Kind: KindPublish, Node: n.Name, Deps: []string{start.ID},
			Publish: &Publish{HostIP: p.HostIP, HostPort: p.HostPort, NodePort: p.NodePort, Proto: p.Proto, Dial: dialAddrs(n)}})
		ready = append(ready, id)
	}
	ready = append(ready, b.readyDeps[n.Name]...)
	b.add(&Step{ID: "ready:" + n.Name, Kind: KindReady, Node: n.Name, Deps: ready})
}

// dialAddrs lists where a published port of n is dialled from inside the
// node, in order: its loopback (127.0.0.1, and ::1 when the node has IPv6),
// then the addresses of its interfaces in name order. Link-local addresses
// are left out: they need a zone and a server rarely binds only to one.
func dialAddrs(n *spec.Node) []netip.Addr {
	out := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	var lab []netip.Addr
	has6 := false
	for _, i := range n.SortedInterfaces() {
		for _, a := range i.Addrs {
			if a.Addr().IsLinkLocalUnicast() {
				continue
			}
			has6 = has6 || a.Addr().Is6()
			lab = append(lab, a.Addr())
		}
	}
	if has6 {
		out = append(out, netip.IPv6Loopback())
	}
	return append(out, lab...)
}

const isolateID = "isolate"

// isolate plans the lab's bridge table for its isolated networks, if any:
// member ports of nodes that do not forward (of every node, on a network
// isolating RoutersToo) are isolated from each other.
func (b *builder) isolate() {
	iso := &Isolate{Table: naming.IsolationTable(b.lab.Name)}
	var deps []string
	members := map[string][]string{}          // isolated network -> its member ports, in node and interface order
	macs := map[string][]string{}             // isolated network -> its members' MACs, as members
	ports := map[string]map[string][]string{} // isolated network -> node -> its ports there
	for _, n := range b.lab.SortedNodes() {
		for _, i := range n.SortedInterfaces() {
			if nw := b.lab.Networks[i.Network]; nw != nil && nw.Isolated && (!n.Forward || nw.RoutersToo) {
				port := naming.Port(b.lab.Name, n.Name, i.Name)
				members[i.Network] = append(members[i.Network], port)
				macs[i.Network] = append(macs[i.Network], i.MAC)
				if ports[i.Network] == nil {
					ports[i.Network] = map[string][]string{}
				}
				ports[i.Network][n.Name] = append(ports[i.Network][n.Name], port)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b.lab.Networks)) {
		nw := b.lab.Networks[name]
		if !nw.Isolated {
			continue
		}
		in := IsolatedNetwork{Network: name, Bridge: b.bridgeName(name), Members: members[name], MACs: macs[name]}
		ports := ports[name]
		for _, a := range nw.Allow {
			in.Allow = append(in.Allow, AllowRule{From: ports[a.From], To: ports[a.To], Proto: a.Proto, PortMin: a.PortMin, PortMax: a.PortMax})
		}
		iso.Networks = append(iso.Networks, in)
		deps = append(deps, "bridge:"+name)
	}
	if len(iso.Networks) > 0 {
		b.add(&Step{ID: isolateID, Kind: KindIsolate, Isolate: iso, Deps: deps})
	}
}

func addrID(node, iface string) string { return "addr:" + node + ":" + iface }

// nodeRoutes is what a node's route steps are planned from: the node, its
// interface prefixes indexed, and its routes that name only a device.
type nodeRoutes struct {
	node *spec.Node
	on   *spec.OnLink
	dev  []*spec.Route
}

// route adds a route step. It waits for what makes it valid to the
// kernel: the addresses of its device, and for a next hop the interface
// whose prefix holds it or the device route that reaches it.
func (b *builder) route(rt *nodeRoutes, r *Route) *Step {
	n := rt.node
	s := &Step{ID: "route:" + n.Name + ":" + r.DstName(), Kind: KindRoute, Node: n.Name, Route: r}
	if r.Dev != "" {
		s.Deps = append(s.Deps, addrID(n.Name, r.Dev))
	}
	if r.Via.IsValid() {
		for _, i := range rt.on.Ifaces(r.Via, r.Dev) {
			if !contains(s.Deps, addrID(n.Name, i)) {
				s.Deps = append(s.Deps, addrID(n.Name, i))
			}
		}
		for _, o := range rt.dev {
			if (r.Dev == "" || o.Dev == r.Dev) && o.Dst.Contains(r.Via) && o.Dst != r.Dst {
				s.Deps = append(s.Deps, "route:"+n.Name+":"+Route{Dst: o.Dst}.DstName())
			}
		}
	}
	if len(s.Deps) == 0 { // an IPv6 link-local next hop: any interface will do
		s.Deps = append(s.Deps, "start:"+n.Name)
	}
	return b.add(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hosts gives every node an /etc/hosts line: its first address (IPv4
// first), named by node name, host name and the host name's first label.
func hosts(lab *spec.Lab) []Host {
	var out []Host
	for _, n := range lab.SortedNodes() {
		if addr := n.HostAddr(); addr.IsValid() {
			out = append(out, Host{Addr: addr, Names: n.HostNames()})
		}
	}
	return out
}
