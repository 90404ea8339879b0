package spec

import (
	"net/netip"
	"slices"
	"time"
)

// Bounds of a DHCP lease: short ones make renewals visible in a lesson,
// and a lease's length travels in 32 bits of seconds.
const (
	minLease = 10 * time.Second
	maxLease = 8760 * time.Hour
)

// dhcpConfig parses and checks a network's dhcp: a range inside the
// subnet, first address first, a gateway inside the subnet, name servers,
// the lease's length. The server is checked once addresses are known.
func (c *checker) dhcpConfig(name string, nw *Network) {
	d := nw.DHCP
	at := path("networks", name, "dhcp")
	sub := nw.Prefix
	if !sub.IsValid() {
		if nw.Subnet == "" {
			c.ps.addKey(at, "DHCP hands out addresses of the network's IPv4 subnet: give networks.%s.subnet", name)
		}
		return // a wrong subnet is reported already
	}
	if len(d.Range) != 2 {
		c.ps.add(path(at, "range"), "a range is two addresses, first and last: [%s, %s]", sub.Addr().Next(), lastAddr(sub).Prev())
	} else {
		lo, hi := hostRange(sub)
		var ends [2]netip.Addr
		for k, s := range d.Range {
			rat := path(at, "range", k)
			a, err := netip.ParseAddr(s)
			switch {
			case err != nil || !a.Is4():
				c.ps.add(rat, "%q is not an IPv4 address", s)
			case !sub.Contains(a):
				c.ps.add(rat, "%s is outside network %s's subnet %s", a, name, sub)
			case a.Compare(lo) < 0 || a.Compare(hi) > 0:
				c.ps.add(rat, "%s is the network or broadcast address of %s; leases need host addresses", a, sub)
			default:
				ends[k] = a
			}
		}
		if ends[0].IsValid() && ends[1].IsValid() {
			if ends[0].Compare(ends[1]) > 0 {
				c.ps.add(path(at, "range"), "the range starts at %s, after its end %s: write the lower address first", ends[0], ends[1])
			} else {
				d.First, d.Last = ends[0], ends[1]
			}
		}
	}
	if d.Gateway != "" {
		a, err := netip.ParseAddr(d.Gateway)
		switch {
		case err != nil || !a.Is4():
			c.ps.add(path(at, "gateway"), "%q is not an IPv4 address", d.Gateway)
		case !sub.Contains(a):
			c.ps.add(path(at, "gateway"), "gateway %s is outside network %s's subnet %s: clients could not reach it", a, name, sub)
		case d.InRange(a):
			c.ps.add(path(at, "gateway"), "gateway %s is inside the DHCP range %s-%s: the server could lease it to a client", a, d.First, d.Last)
		default:
			d.Router = a
		}
	}
	for k, s := range d.DNS {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			c.ps.add(path(at, "dns", k), "%q is not an IPv4 address", s)
			continue
		}
		d.DNSAddrs = append(d.DNSAddrs, a)
	}
	d.LeaseTime = DefaultLease
	if d.Lease != "" {
		l, err := time.ParseDuration(d.Lease)
		switch {
		case err != nil:
			c.ps.add(path(at, "lease"), "%q is not a duration like 1h or 10m", d.Lease)
		case l < minLease || l > maxLease:
			c.ps.add(path(at, "lease"), "a lease of %s: give one from %s to %s (a year)", d.Lease, minLease, "8760h")
		default:
			d.LeaseTime = l
		}
	}
}

// dhcpRanges reports static addresses inside a network's DHCP range: the
// server would lease them to others.
func (c *checker) dhcpRanges() {
	for _, name := range c.lab.SortedNetworks() {
		d := c.lab.Networks[name].DHCP
		if d == nil || !d.First.IsValid() {
			continue
		}
		for _, m := range c.members[name] {
			for k, s := range m.iface.Address {
				p, err := netip.ParsePrefix(s)
				if err != nil || !slices.Contains(m.iface.Addrs, p) || !d.InRange(p.Addr()) {
					continue
				}
				at := path("nodes", m.node.Name, "interfaces", m.iface.Name, "address")
				if len(m.iface.Address) > 1 {
					at = path(at, k)
				}
				c.ps.add(at, "%s is inside network %s's DHCP range %s-%s, which the server leases to others: take an address outside it", p.Addr(), name, d.First, d.Last)
			}
		}
	}
}

// dhcpServerAddr takes the address of netlab's own DHCP server on a
// network: the highest free host address outside the range, so that the
// addresses given to interfaces from the bottom stay where they were.
func (c *checker) dhcpServerAddr(name string, sub netip.Prefix, used map[netip.Addr]bool, d *DHCP) netip.Prefix {
	first, a := hostRange(sub)
	for ; a.IsValid() && a.Compare(first) >= 0; a = a.Prev() {
		if !used[a] && !d.InRange(a) {
			used[a] = true
			return netip.PrefixFrom(a, sub.Bits())
		}
	}
	c.ps.add(path("networks", name, "dhcp", "range"), "no address of %s is left for netlab's DHCP server: shrink the range, or name a node to serve with server: NODE", sub)
	return netip.Prefix{}
}

// dhcpServers checks the node named to serve a network's DHCP (it must be
// on the network with a static IPv4 address, its server's address) and
// that nodes taking addresses by DHCP keep what their DHCP client needs.
func (c *checker) dhcpServers() {
	for _, name := range c.lab.SortedNetworks() {
		d := c.lab.Networks[name].DHCP
		if d == nil || d.Server == "" {
			continue
		}
		at := path("networks", name, "dhcp", "server")
		n := c.lab.Nodes[d.Server]
		if n == nil {
			c.ps.add(at, "unknown node %q (known: %s)", d.Server, c.knownNodes())
			continue
		}
		var on []member
		for _, m := range c.members[name] {
			if m.node == n {
				on = append(on, m)
			}
		}
		if len(on) == 0 {
			c.ps.add(at, "node %s has no interface on network %s, where it would serve DHCP", n.Name, name)
			continue
		}
		for _, m := range on {
			if p := firstOfFamily(m.iface.Addrs, 4); p.IsValid() {
				d.ServerIface, d.ServerAddr = m.iface.Name, p
				break
			}
		}
		if !d.ServerAddr.IsValid() {
			why := "has none"
			if on[0].iface.DHCP {
				why = "takes one by DHCP"
			}
			c.ps.add(at, "%s serves DHCP on network %s, so it needs a static IPv4 address there; %s %s", n.Name, name, on[0], why)
		}
	}
	for _, n := range c.lab.SortedNodes() {
		var dhcp []string
		for _, i := range n.SortedInterfaces() {
			if i.DHCP {
				dhcp = append(dhcp, i.Name)
			}
		}
		if len(dhcp) == 0 || slices.Contains(n.Caps.Add, "ALL") {
			continue
		}
		for _, capName := range []string{"NET_ADMIN", "NET_RAW"} {
			if !slices.Contains(n.Caps.Add, capName) {
				c.ps.add(n.at("cap_drop"), "%s takes the address of %s by DHCP, which netlab's client in the node does with NET_ADMIN and NET_RAW: do not drop %s", n.Name, dhcp[0], capName)
				break
			}
		}
	}
}
