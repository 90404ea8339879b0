package spec

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

func (c *checker) links() {
	for k, l := range c.lab.Links {
		at := path("links", k)
		for e := 0; e < 2; e++ {
			ep := l.Endpoints[e]
			eat := at
			if l.long {
				eat = path(at, "endpoints")
			}
			eat = path(eat, e)
			if ep.Node == "" || ep.Interface == "" {
				c.ps.add(eat, "%q is not an endpoint like node:eth0", ep.String())
				continue
			}
			n := c.lab.Nodes[ep.Node]
			if n == nil && ep.Node == HostNode {
				c.hostEnd(eat, l, e)
				continue
			}
			if n == nil {
				c.ps.add(eat, "unknown node %q (known: %s)", ep.Node, c.knownNodes())
				continue
			}
			i := n.Interfaces[ep.Interface]
			switch {
			case i == nil:
				c.ps.add(eat, "node %s has no interface %q (known: %s); declare it under nodes.%s.interfaces", ep.Node, ep.Interface, c.knownIfaces(n), ep.Node)
			case i.Network != "":
				c.ps.add(eat, "%s is on network %s; an interface is on a network or ends a link, not both", ep, i.Network)
			case i.Link != nil:
				c.ps.add(eat, "%s already ends links[%d]; an interface ends one link", ep, i.Link.Index)
			default:
				i.Link = l
			}
		}
		c.impairments(at, l)
		if l.HostEnd < 0 && len(l.HostAddress) > 0 {
			c.ps.add(path(at, "host_address"), "host_address is for a link to the machine itself: make one endpoint host:IFNAME")
		}
		if l.HostEnd >= 0 {
			for k, s := range l.HostAddress {
				aat := path(at, "host_address")
				if len(l.HostAddress) > 1 {
					aat = path(aat, k)
				}
				if p, ok := c.ifaceAddr(aat, s); ok {
					l.HostAddrs = append(l.HostAddrs, p)
				}
			}
			if !l.Impair.IsZero() {
				c.ps.add(at, "a link to the machine itself cannot be impaired: the relay needs a node at both ends")
			}
		}
	}
}

// HostNode is the endpoint node name that means the machine itself
// (host:IFNAME), unless the lab has a node of that name.
const HostNode = "host"

// hostEnd checks endpoint e of l, host:IFNAME: a veth end that stays on the
// machine under IFNAME.
func (c *checker) hostEnd(at string, l *Link, e int) {
	name := l.Endpoints[e].Interface
	switch {
	case l.HostEnd >= 0:
		c.ps.add(at, "both ends of the link are the machine itself: one end must be a node")
		return
	case ifNameProblem(name) != "":
		c.ps.add(at, "%s", ifNameProblem(name))
		return
	}
	if o := c.hostLinks[name]; o != nil && o != l {
		c.ps.add(at, "host:%s already ends links[%d]; each host interface ends one link", name, o.Index)
		return
	}
	c.hostLinks[name] = l
	l.HostEnd = e
}

// SetImpairment gives a link new impairments at run time (netlab impair),
// checked as in a lab file: "" leaves one out; all "" clear them.
func (l *Link) SetImpairment(delay, jitter, loss, rate string) error {
	c := &checker{ps: &problems{file: "netlab impair", pos: positions{value: map[string]pos{}, key: map[string]pos{}}}}
	l.Delay, l.Jitter, l.Loss, l.Rate, l.Impair = delay, jitter, loss, rate, Impairment{}
	c.impairments("", l)
	if l.HostEnd >= 0 && !l.Impair.IsZero() {
		c.ps.add("", "a link to the machine itself cannot be impaired: the relay needs a node at both ends")
	}
	return c.ps.err()
}

func (c *checker) impairments(at string, l *Link) {
	var msg string
	if l.Delay != "" {
		if l.Impair.Delay, msg = boundedDuration(l.Delay, MaxImpairDelay, "20ms"); msg != "" {
			c.ps.add(path(at, "delay"), "%s", msg)
		}
	}
	if l.Jitter != "" {
		if l.Impair.Jitter, msg = boundedDuration(l.Jitter, MaxImpairDelay, "5ms"); msg != "" {
			c.ps.add(path(at, "jitter"), "%s", msg)
		} else if l.Delay == "" {
			c.ps.add(path(at, "jitter"), "jitter needs a delay to vary around")
		}
	}
	if l.Loss != "" {
		v, ok := lossPercent(l.Loss)
		if !ok {
			c.ps.add(path(at, "loss"), "%q is not a percentage from 0 to 100, like 1%%", l.Loss)
		}
		l.Impair.LossPercent = v
	}
	if l.Rate != "" {
		r, ok := parseRate(l.Rate)
		if !ok {
			c.ps.add(path(at, "rate"), "%q is not a rate from 8bit to 1tbit, like 10mbit, 512kbit or 1gbit", l.Rate)
		}
		l.Impair.RateBytes = r
	}
}

// parseRate parses tc-style rates into bytes per second.
func parseRate(s string) (uint64, bool) {
	m := rateRe.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, false
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{
		"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8, "tbit": 1e12 / 8,
		"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9,
	}[m[2]]
	b := v * mult
	if b < 1 || b > float64(MaxRateBytes) {
		return 0, false
	}
	return uint64(b), true
}

// unconnected reports interfaces that are on no network and end no link.
func (c *checker) unconnected() {
	for _, n := range c.lab.SortedNodes() {
		for _, i := range n.SortedInterfaces() {
			parent, _, sub := strings.Cut(i.Name, ".")
			if sub && n.Interfaces[parent] != nil {
				continue // a sub-interface whose problem vlanIface reported
			}
			if i.Network == "" && i.Link == nil {
				c.ps.addKey(path("nodes", n.Name, "interfaces", i.Name), "interface %s:%s is connected to nothing: give it a network or end a link with it", n.Name, i.Name)
			}
		}
	}
}

// allocate gives interfaces on a network with a subnet the next free
// address of each family they lack, in node and interface name order.
func (c *checker) allocate() {
	for _, name := range c.lab.SortedNetworks() {
		nw := c.lab.Networks[name]
		for _, sub := range []netip.Prefix{nw.Prefix, nw.Prefix6} {
			if !sub.IsValid() {
				continue
			}
			used := map[netip.Addr]bool{}
			for _, m := range c.members[name] {
				for _, p := range m.iface.Addrs {
					used[p.Addr()] = true
				}
			}
			next, last := hostRange(sub)
			var d *DHCP // the range is not for static addresses
			if sub.Addr().Is4() {
				d = nw.DHCP
			}
			if d != nil && d.First.IsValid() && d.Server == "" {
				d.ServerAddr = c.dhcpServerAddr(name, sub, used, d)
			}
			for _, m := range c.members[name] {
				if hasFamily(m.iface.Addrs, fam(sub.Addr())) || m.iface.givenWrong() || (m.iface.DHCP && sub.Addr().Is4()) || m.iface.VID != 0 {
					continue // has one, gave one that was wrong (already reported), takes one by DHCP, or is on a VLAN
				}
				for next.IsValid() && (used[next] || d.InRange(next) || addrKindProblem(next) != "") && next.Compare(last) <= 0 {
					next = next.Next()
				}
				if !next.IsValid() || next.Compare(last) > 0 {
					c.ps.addKey(path("nodes", m.node.Name, "interfaces", m.iface.Name),
						"no free address left for %s in network %s's subnet %s", m, name, sub)
					continue
				}
				p := netip.PrefixFrom(next, sub.Bits())
				m.iface.Addrs = append(m.iface.Addrs, p)
				m.iface.Auto = append(m.iface.Auto, p)
				used[next] = true
			}
		}
	}
}

// hostRange is the first and last address a host may take in sub.
func hostRange(sub netip.Prefix) (netip.Addr, netip.Addr) {
	first, last := sub.Addr(), lastAddr(sub)
	if sub.Addr().Is4() && sub.Bits() <= 30 {
		return first.Next(), last.Prev()
	}
	if sub.Addr().Is6() && sub.Bits() < 127 {
		return first.Next(), last // skip the subnet-router anycast address
	}
	return first, last
}

// givenWrong tells whether an address the file gives was rejected (and
// reported): such an interface gets none allocated either.
func (i *Interface) givenWrong() bool {
	given := len(i.Address)
	if i.DHCP {
		given--
	}
	if i.SLAAC {
		given--
	}
	return given > len(i.Addrs)
}

func firstOfFamily(ps []netip.Prefix, family int) netip.Prefix {
	for _, p := range ps {
		if fam(p.Addr()) == family {
			return p
		}
	}
	return netip.Prefix{}
}

func hasFamily(ps []netip.Prefix, family int) bool {
	for _, p := range ps {
		if fam(p.Addr()) == family {
			return true
		}
	}
	return false
}

// segments finds the same address or MAC twice on one segment and derives
// the MACs not given.
func (c *checker) segments() {
	type seg struct {
		name    string
		members []member
	}
	var segs []seg
	for _, name := range c.lab.SortedNetworks() {
		segs = append(segs, seg{"network " + name, c.members[name]})
	}
	for k, l := range c.lab.Links {
		var ms []member
		for _, ep := range l.Endpoints {
			if n := c.lab.Nodes[ep.Node]; n != nil {
				if i := n.Interfaces[ep.Interface]; i != nil && i.Link == l {
					ms = append(ms, member{n, i})
				}
			}
		}
		segs = append(segs, seg{fmt.Sprintf("links[%d]", k), ms})
	}
	for _, s := range segs {
		addrs := map[netip.Addr]member{}
		macs := map[string]member{}
		given := map[string]bool{} // MACs the file gives, as opposed to derived ones
		for _, m := range s.members {
			at := path("nodes", m.node.Name, "interfaces", m.iface.Name)
			for _, p := range m.iface.Addrs {
				if o, dup := addrs[p.Addr()]; dup {
					c.ps.add(path(at, "address"), "address %s is also used by %s on %s", p.Addr(), o, s.name)
				}
				addrs[p.Addr()] = m
			}
			explicit := m.iface.MAC != ""
			if !explicit {
				m.iface.MAC = deriveMAC(c.lab.Name, m)
			}
			if hw, err := net.ParseMAC(m.iface.MAC); err == nil {
				key := hw.String()
				// Derived MACs collide only where addresses do, reported above.
				if o, dup := macs[key]; dup && (explicit || given[key]) {
					c.ps.add(path(at, "mac"), "MAC %s is also used by %s on %s", key, o, s.name)
				}
				macs[key] = m
				given[key] = given[key] || explicit
			}
		}
	}
}

// deriveMAC gives 02:42 followed by the first IPv4 address, as Docker does,
// or for interfaces without one 02 followed by a hash of lab, node and
// interface names, so that a lab gets the same MACs every time.
func deriveMAC(lab string, m member) string {
	for _, p := range m.iface.Addrs {
		if p.Addr().Is4() {
			b := p.Addr().As4()
			return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}.String()
		}
	}
	f := fnv.New64a()
	for _, s := range []string{lab, m.node.Name, m.iface.Name} {
		f.Write([]byte(s))
		f.Write([]byte{0})
	}
	h := f.Sum64()
	return net.HardwareAddr{0x02, 0x43, byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}.String()
}
