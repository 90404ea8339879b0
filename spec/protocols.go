package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Routing is a router's dynamic routing, which netlab turns into FRR's
// configuration (see package frr): OSPF, OSPFv3, RIP, RIPng and BGP.
type Routing struct {
	RouterID string `yaml:"router_id,omitempty" json:"router_id,omitempty"`
	OSPF     *OSPF  `yaml:"ospf,omitempty" json:"ospf,omitempty"`
	OSPF6    *OSPF  `yaml:"ospf6,omitempty" json:"ospf6,omitempty"`
	RIP      *RIP   `yaml:"rip,omitempty" json:"rip,omitempty"`
	RIPng    *RIP   `yaml:"ripng,omitempty" json:"ripng,omitempty"`
	BGP      *BGP   `yaml:"bgp,omitempty" json:"bgp,omitempty"`
	// RA lists the interfaces the router sends IPv6 router advertisements
	// on (radvd), announcing their /64 prefixes for SLAAC.
	RA []string `yaml:"ra,omitempty" json:"ra,omitempty"`
	// Loopback is an IPv4 address with prefix that FRR puts on the node's
	// loopback (lo); OSPF announces it, and iBGP sessions with
	// update_source: lo run between loopbacks.
	Loopback string `yaml:"loopback,omitempty" json:"loopback,omitempty"`

	ID           netip.Addr   `yaml:"-" json:"-"` // parsed RouterID
	LoopbackAddr netip.Prefix `yaml:"-" json:"-"` // parsed Loopback (zero if none)
}

// OSPF runs OSPF (or OSPFv3) on some of the node's interfaces.
type OSPF struct {
	Area         string          `yaml:"area,omitempty" json:"area,omitempty"` // default area of the interfaces: "0", "1" or "0.0.0.1"
	Interfaces   []OSPFInterface `yaml:"interfaces" json:"interfaces"`
	Passive      []string        `yaml:"passive,omitempty" json:"passive,omitempty"`
	Redistribute []string        `yaml:"redistribute,omitempty" json:"redistribute,omitempty"`
}

// OSPFInterface is an interface in OSPF, written as its name or as
// {name, area, cost}.
type OSPFInterface struct {
	Name string `yaml:"name" json:"name"`
	Area string `yaml:"area,omitempty" json:"area,omitempty"`
	Cost int    `yaml:"cost,omitempty" json:"cost,omitempty"`
}

// UnmarshalYAML accepts "eth0" or {name: eth0, area: 1, cost: 10}.
func (o *OSPFInterface) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		o.Name = n.Value
		return nil
	}
	type plain OSPFInterface
	return n.Decode((*plain)(o))
}

// RIP runs RIP version 2 (or RIPng) on some of the node's interfaces.
type RIP struct {
	Interfaces   []string `yaml:"interfaces" json:"interfaces"`
	Passive      []string `yaml:"passive,omitempty" json:"passive,omitempty"`
	Redistribute []string `yaml:"redistribute,omitempty" json:"redistribute,omitempty"`
}

// BGP is one BGP speaker.
type BGP struct {
	AS           uint32         `yaml:"as" json:"as"`
	Neighbors    []*BGPNeighbor `yaml:"neighbors,omitempty" json:"neighbors,omitempty"`
	Networks     []string       `yaml:"networks,omitempty" json:"networks,omitempty"`
	Redistribute []string       `yaml:"redistribute,omitempty" json:"redistribute,omitempty"`

	Prefixes []netip.Prefix `yaml:"-" json:"-"` // parsed Networks
}

// BGPNeighbor is a BGP session with a peer on a connected segment.
type BGPNeighbor struct {
	Address     string `yaml:"address" json:"address"`
	AS          uint32 `yaml:"as" json:"as"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	NextHopSelf bool   `yaml:"next_hop_self,omitempty" json:"next_hop_self,omitempty"`
	// UpdateSource is the interface whose address the session starts from:
	// lo for iBGP between loopbacks. A neighbor with one need not be on a
	// connected segment (an IGP reaches it).
	UpdateSource string `yaml:"update_source,omitempty" json:"update_source,omitempty"`
	// Relation is the business relation of an eBGP peer (see Relations),
	// which FRR turns into the customer/peer/provider (Gao-Rexford) policy.
	Relation string `yaml:"relation,omitempty" json:"relation,omitempty"`

	Addr netip.Addr `yaml:"-" json:"-"` // parsed Address
}

// The relations of an eBGP neighbor. Routes learned from a customer are
// tagged AS:10 and preferred (local-pref 100), from a peer or route server
// AS:20 (50), from a provider AS:30 (20); a customer is sent every route,
// a peer, provider or route server only the node's own networks and the
// routes tagged AS:10. A route server passes routes between its clients
// without adding its AS (the member side does not expect it first); an
// rs_client is such a client, on the route server's side.
const (
	RelationCustomer    = "customer"
	RelationPeer        = "peer"
	RelationProvider    = "provider"
	RelationRouteServer = "route_server"
	RelationRSClient    = "rs_client"
)

// Relations are the values of a BGP neighbor's relation.
var Relations = []string{RelationCustomer, RelationPeer, RelationProvider, RelationRouteServer, RelationRSClient}

// Config holds configuration files given whole, for what the lab file's
// keys do not cover: FRR's integrated frr.conf.
type Config struct {
	FRR string `yaml:"frr,omitempty" json:"frr,omitempty"` // path, relative to the lab file

	FRRText string `yaml:"-" json:"-"` // the file's content, read at load time
}

var redistributable = []string{"bgp", "connected", "kernel", "ospf", "ospf6", "rip", "ripng", "static"}

// protocols checks a node's routing and config keys.
func (c *checker) protocols(n *Node) {
	at := path("nodes", n.Name)
	if n.Config != nil && n.Config.FRR != "" {
		data, err := ReadLabFile(c.lab.dir(), n.Config.FRR, MaxConfigBytes)
		if err != nil {
			c.ps.add(path(at, "config", "frr"), "cannot read %s: %v", n.Config.FRR, unwrapPath(err))
		} else {
			n.Config.FRRText = string(data)
		}
		if n.Routing != nil {
			c.ps.addKey(path(at, "routing"), "give routing or config.frr, not both: config.frr is the whole FRR configuration")
		}
	}
	r := n.Routing
	if r == nil {
		return
	}
	rat := path(at, "routing")
	if r.RouterID != "" {
		a, err := netip.ParseAddr(r.RouterID)
		if err != nil || !a.Is4() {
			c.ps.add(path(rat, "router_id"), "%q is not a router id like 1.1.1.1 (an IPv4 address)", r.RouterID)
		}
		r.ID = a
	}
	if r.OSPF != nil {
		c.ospf(n, path(rat, "ospf"), r.OSPF)
	}
	if r.OSPF6 != nil {
		c.ospf(n, path(rat, "ospf6"), r.OSPF6)
	}
	if r.RIP != nil {
		c.rip(n, path(rat, "rip"), r.RIP)
	}
	if r.RIPng != nil {
		c.rip(n, path(rat, "ripng"), r.RIPng)
	}
	for k, ifname := range r.RA {
		i := n.Interfaces[ifname]
		if i == nil {
			c.ps.add(path(rat, "ra", k), "unknown interface %q (known: %s)", ifname, c.knownIfaces(n))
		} else if len(RAPrefixes(i)) == 0 {
			c.ps.add(path(rat, "ra", k), "%s has no global IPv6 address with a /64 prefix to advertise (SLAAC needs a /64)", ifname)
		}
	}
	if r.Loopback != "" {
		p, err := netip.ParsePrefix(r.Loopback)
		switch {
		case err != nil || !p.Addr().Is4():
			c.ps.add(path(rat, "loopback"), "%q is not an IPv4 address with prefix like 10.255.0.1/32", r.Loopback)
		case addrKindProblem(p.Addr()) != "":
			c.ps.add(path(rat, "loopback"), "%s cannot be a loopback address: %s", p.Addr(), addrKindProblem(p.Addr()))
		default:
			r.LoopbackAddr = p
		}
	}
	if r.BGP != nil {
		c.bgp(n, path(rat, "bgp"), r.BGP)
	}
	if !n.Forward {
		c.ps.addKey(rat, "node %s routes but does not forward: set forward: true", n.Name)
	}
}

func unwrapPath(err error) error {
	if errors.Is(err, ErrOutsideLab) {
		return fmt.Errorf("%w: a file a lab names by a relative path must be in the lab's directory or below it", ErrOutsideLab)
	}
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ifaceRef checks that a protocol names one of the node's interfaces.
func (c *checker) ifaceRef(n *Node, at, name string) bool {
	if n.Interfaces[name] == nil {
		c.ps.add(at, "unknown interface %q (known: %s)", name, c.knownIfaces(n))
		return false
	}
	return true
}

// ParseArea reads an OSPF area as a number (0, 1) or a dotted quad
// (0.0.0.1), and returns it as a dotted quad.
func ParseArea(s string) (string, bool) {
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String(), true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return a.String(), true
	}
	return "", false
}

func (c *checker) ospf(n *Node, at string, o *OSPF) {
	if o.Area != "" {
		if _, ok := ParseArea(o.Area); !ok {
			c.ps.add(path(at, "area"), "%q is not an OSPF area like 0, 1 or 0.0.0.1", o.Area)
		}
	}
	seen := map[string]bool{}
	for k, i := range o.Interfaces {
		iat := path(at, "interfaces", k)
		if !c.ifaceRef(n, iat, i.Name) {
			continue
		}
		if seen[i.Name] {
			c.ps.add(iat, "interface %s is listed twice", i.Name)
		}
		seen[i.Name] = true
		area := i.Area
		if area == "" {
			area = o.Area
		}
		if area == "" {
			c.ps.add(iat, "interface %s has no area: give area here or for the whole protocol", i.Name)
		} else if _, ok := ParseArea(area); !ok && i.Area != "" {
			c.ps.add(path(iat, "area"), "%q is not an OSPF area like 0, 1 or 0.0.0.1", i.Area)
		}
		if i.Cost < 0 || i.Cost > 65535 {
			c.ps.add(path(iat, "cost"), "cost %d must be from 1 to 65535", i.Cost)
		}
	}
	c.passive(n, at, o.Passive, seen)
	c.redistribute(at, o.Redistribute)
}

func (c *checker) rip(n *Node, at string, r *RIP) {
	seen := map[string]bool{}
	for k, name := range r.Interfaces {
		if c.ifaceRef(n, path(at, "interfaces", k), name) {
			seen[name] = true
		}
	}
	c.passive(n, at, r.Passive, seen)
	c.redistribute(at, r.Redistribute)
}

func (c *checker) passive(n *Node, at string, passive []string, in map[string]bool) {
	for k, name := range passive {
		pat := path(at, "passive", k)
		if c.ifaceRef(n, pat, name) && !in[name] {
			c.ps.add(pat, "passive interface %s is not among the protocol's interfaces", name)
		}
	}
}

func (c *checker) redistribute(at string, list []string) {
	for k, s := range list {
		if !slices.Contains(redistributable, s) {
			c.ps.add(path(at, "redistribute", k), "cannot redistribute %q (known: %s)", s, quoteList(redistributable))
		}
	}
}

func (c *checker) bgp(n *Node, at string, b *BGP) {
	if b.AS == 0 {
		c.ps.add(path(at, "as"), "AS 0 is reserved: use 1 to 4294967295 (private: 64512-65534, 4200000000-4294967294)")
	}
	peers := map[netip.Addr]bool{}
	for k, nb := range b.Neighbors {
		nat := path(at, "neighbors", k)
		if nb.AS == 0 {
			c.ps.add(path(nat, "as"), "AS 0 is reserved: use 1 to 4294967295")
		}
		a, err := netip.ParseAddr(nb.Address)
		if err != nil {
			c.ps.add(path(nat, "address"), "%q is not an IP address", nb.Address)
			continue
		}
		nb.Addr = a
		if peers[a] {
			c.ps.add(path(nat, "address"), "neighbor %s is listed twice", a)
		}
		peers[a] = true
		switch {
		case nb.UpdateSource == "lo":
			if !n.Routing.LoopbackAddr.IsValid() {
				c.ps.add(path(nat, "update_source"), "update_source lo needs an address on the loopback: set routing.loopback")
			}
		case nb.UpdateSource != "":
			c.ifaceRef(n, path(nat, "update_source"), nb.UpdateSource)
		case !connected(n, a):
			c.ps.add(path(nat, "address"), "neighbor %s is not on a segment connected to %s: no interface prefix of %s holds it (or give update_source for a session across an IGP)", a, n.Name, n.Name)
		}
		c.relation(nat, b, nb)
	}
	for k, s := range b.Networks {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Masked() != p {
			c.ps.add(path(at, "networks", k), "%q is not a prefix like 10.1.0.0/16", s)
			continue
		}
		b.Prefixes = append(b.Prefixes, p)
	}
	c.redistribute(at, b.Redistribute)
}

// relation checks a neighbor's relation: a known one, on an eBGP session
// over IPv4, from an AS that fits a standard community (AS:10).
func (c *checker) relation(at string, b *BGP, nb *BGPNeighbor) {
	switch {
	case nb.Relation == "":
	case !slices.Contains(Relations, nb.Relation):
		c.ps.add(path(at, "relation"), "unknown relation %q (known: %s)", nb.Relation, quoteList(Relations))
	case nb.AS == b.AS:
		c.ps.add(path(at, "relation"), "relation %s is for eBGP: neighbor %s is in the node's own AS %d", nb.Relation, nb.Address, b.AS)
	case nb.Addr.Is6():
		c.ps.add(path(at, "relation"), "relation is for IPv4 sessions: %s is IPv6", nb.Address)
	case b.AS > 65535:
		c.ps.add(path(at, "relation"), "relation tags routes with the community AS:10, which needs an AS of at most 65535, not %d", b.AS)
	}
}

// connected tells whether a is inside one of n's interface prefixes (and
// not n's own address).
func connected(n *Node, a netip.Addr) bool {
	for _, i := range n.Interfaces {
		for _, p := range i.Addrs {
			if p.Addr() != a && p.Masked().Contains(a) {
				return true
			}
		}
	}
	return false
}

// String names a BGP session for messages: "10.0.0.2 (AS 65002)".
func (nb *BGPNeighbor) String() string { return fmt.Sprintf("%s (AS %d)", nb.Address, nb.AS) }

// RAPrefixes are the /64 prefixes of an interface's global IPv6 addresses:
// what router advertisements announce on it.
func RAPrefixes(i *Interface) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range i.Addrs {
		if a.Addr().Is6() && !a.Addr().IsLinkLocalUnicast() && a.Bits() == 64 && !slices.Contains(out, a.Masked()) {
			out = append(out, a.Masked())
		}
	}
	return out
}
