package spec

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// routing parses and checks the node's gateway and routes: each next hop
// must be reachable on-link, through an interface's prefix or a dev route.
func (c *checker) routing(n *Node) {
	at := path("nodes", n.Name)
	defaults := map[int]string{} // family -> where the default route was given
	var on *OnLink               // made when a next hop is first checked
	var devRoutes []*Route       // routes given so far that name only a device
	for k, s := range n.Gateway {
		gat := path(at, "gateway")
		if len(n.Gateway) > 1 {
			gat = path(gat, k)
		}
		gw, err := netip.ParseAddr(s)
		if err != nil {
			c.ps.add(gat, "%q is not an IP address", s)
			continue
		}
		if prev, dup := defaults[fam(gw)]; dup {
			c.ps.add(gat, "a second IPv%d default gateway (the first is %s)", fam(gw), prev)
			continue
		}
		defaults[fam(gw)] = gat
		c.nexthop(n, &on, devRoutes, gat, "gateway", gw, "")
		n.Gateways = append(n.Gateways, gw)
	}
	seen := map[netip.Prefix]string{}
	for k, r := range n.Routes {
		rat := path(at, "routes", k)
		switch r.To {
		case "default":
			r.Dst = netip.MustParsePrefix("0.0.0.0/0")
		case "default6":
			r.Dst = netip.MustParsePrefix("::/0")
		default:
			r.Dst = c.subnet(path(rat, "to"), r.To, 0)
			if !r.Dst.IsValid() {
				continue
			}
		}
		if r.Via == "" && r.Dev != "" {
			devRoutes = append(devRoutes, r)
		}
		if r.Dst.Bits() == 0 {
			if prev, dup := defaults[fam(r.Dst.Addr())]; dup {
				c.ps.add(path(rat, "to"), "a second IPv%d default route (the first is %s)", fam(r.Dst.Addr()), prev)
				continue
			}
			defaults[fam(r.Dst.Addr())] = rat
		} else if prev, dup := seen[r.Dst]; dup {
			c.ps.add(path(rat, "to"), "a second route to %s (the first is %s)", r.Dst, prev)
			continue
		}
		seen[r.Dst] = rat
		if r.Via == "" && r.Dev == "" {
			c.ps.add(rat, "a route needs via (a next hop), dev (an interface) or both")
			continue
		}
		if r.Dev != "" && n.Interfaces[r.Dev] == nil {
			c.ps.add(path(rat, "dev"), "unknown interface %q (known: %s)", r.Dev, c.knownIfaces(n))
			continue
		}
		if r.Via != "" {
			via, err := netip.ParseAddr(r.Via)
			if err != nil {
				c.ps.add(path(rat, "via"), "%q is not an IP address", r.Via)
				continue
			}
			if fam(via) != fam(r.Dst.Addr()) {
				c.ps.add(path(rat, "via"), "next hop %s is IPv%d but the destination %s is IPv%d", via, fam(via), r.Dst, fam(r.Dst.Addr()))
				continue
			}
			c.nexthop(n, &on, devRoutes, path(rat, "via"), "next hop", via, r.Dev)
			r.Nexthop = via
		}
	}
}

// nexthop checks that a gateway or via address is reachable from node n,
// whose addresses *on indexes (made on first use); devRoutes are the node's routes given so far
// that name only a device.
func (c *checker) nexthop(n *Node, on **OnLink, devRoutes []*Route, at, what string, gw netip.Addr, dev string) {
	if *on == nil {
		*on = NewOnLink(n)
	}
	if i := (*on).Owner(gw); i != "" {
		c.ps.add(at, "%s %s is %s's own address on %s", what, gw, n.Name, i)
		return
	}
	if reachable(n, *on, devRoutes, gw, dev) {
		return
	}
	where := "no interface address or dev route of " + n.Name + " covers it"
	if dev != "" {
		where = "no address or dev route on " + n.Name + ":" + dev + " covers it"
	}
	for _, i := range n.SortedInterfaces() {
		if i.DHCP && (dev == "" || dev == i.Name) {
			where += " (the address " + i.Name + " takes by DHCP is not known before up; DHCP gives the default route itself)"
			break
		}
	}
	c.ps.add(at, "%s %s is not reachable: %s", what, gw, where)
}

// Reachable tells whether a next hop is on-link for node n (on interface dev
// if given): inside one of its interface prefixes, inside the destination of
// a route that names only a device, or an IPv6 link-local address.
func Reachable(n *Node, gw netip.Addr, dev string) bool {
	var devRoutes []*Route
	for _, r := range n.Routes {
		if r.Via == "" && r.Dev != "" && r.Dst.IsValid() {
			devRoutes = append(devRoutes, r)
		}
	}
	return reachable(n, NewOnLink(n), devRoutes, gw, dev)
}

func reachable(n *Node, on *OnLink, devRoutes []*Route, gw netip.Addr, dev string) bool {
	if gw.Is6() && gw.IsLinkLocalUnicast() {
		return dev != "" || len(n.Interfaces) > 0
	}
	if len(on.Ifaces(gw, dev)) > 0 {
		return true
	}
	for _, r := range devRoutes {
		if (dev == "" || r.Dev == dev) && r.Dst.Contains(gw) {
			return true
		}
	}
	return false
}

func (c *checker) nat(n *Node) {
	if n.NAT == nil {
		return
	}
	at := path("nodes", n.Name, "nat")
	for k, ifname := range n.NAT.Masquerade {
		if n.Interfaces[ifname] == nil {
			c.ps.add(path(at, "masquerade", k), "unknown interface %q (known: %s)", ifname, c.knownIfaces(n))
		}
	}
	for k, d := range n.NAT.DNAT {
		dat := path(at, "dnat", k)
		if d.Proto == "" {
			d.Proto = "tcp"
		}
		if n.Interfaces[d.In] == nil {
			c.ps.add(path(dat, "in"), "unknown interface %q (known: %s)", d.In, c.knownIfaces(n))
		}
		ap, err := netip.ParseAddrPort(d.To)
		if err == nil {
			d.ToAddr, d.ToPort = ap.Addr(), int(ap.Port())
		} else if a, err2 := netip.ParseAddr(d.To); err2 == nil {
			d.ToAddr, d.ToPort = a, d.Port
		} else {
			c.ps.add(path(dat, "to"), "%q is not addr or addr:port like 192.168.1.10:80 or [fd00::10]:80", d.To)
			continue
		}
		if d.ToPort == 0 {
			c.ps.add(path(dat, "to"), "port 0 is not a destination port")
		}
	}
}

// parsePublish parses "[hostip:]hostport:nodeport[/proto]" or "port".
// The host address defaults to 127.0.0.1: a lab is not exposed to the
// host's networks unless the file says so.
func parsePublish(s string) (PublishSpec, error) {
	bad := fmt.Errorf("%q is not a published port like 2201:22, 127.0.0.1:8080:80 or 5353:53/udp", s)
	p := PublishSpec{HostIP: netip.MustParseAddr("127.0.0.1"), Proto: "tcp"}
	rest := s
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		p.Proto = rest[i+1:]
		rest = rest[:i]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return p, fmt.Errorf("%q: the protocol of a published port must be tcp or udp, not %q", s, p.Proto)
		}
	}
	i := strings.LastIndex(rest, ":")
	nodePort := rest[i+1:]
	rest = rest[:max(i, 0)]
	if i < 0 {
		rest = nodePort
	}
	host := rest
	if j := strings.LastIndex(rest, ":"); j >= 0 {
		ip, err := netip.ParseAddr(strings.Trim(rest[:j], "[]"))
		if err != nil {
			return p, bad
		}
		if z := ip.Zone(); z != "" {
			// The zone names the interface of a link-local address, and
			// becomes part of the forwarder's file names.
			if msg := ifNameProblem(z); msg != "" {
				return p, fmt.Errorf("%q: the zone of the host address: %s", s, msg)
			}
		}
		p.HostIP, host = ip, rest[j+1:]
	}
	var err1, err2 error
	p.HostPort, err1 = strconv.Atoi(host)
	p.NodePort, err2 = strconv.Atoi(nodePort)
	if err1 != nil || err2 != nil {
		return p, bad
	}
	if p.HostPort < 1 || p.HostPort > 65535 || p.NodePort < 1 || p.NodePort > 65535 {
		return p, fmt.Errorf("ports in %q must be from 1 to 65535", s)
	}
	return p, nil
}

// published finds host ports published twice in the lab. A TCP and a UDP
// port of the same number are two ports.
func (c *checker) published() {
	type key struct {
		port  int
		proto string
	}
	type use struct {
		ip netip.Addr
		by string
	}
	uses := map[key][]use{}
	for _, n := range c.lab.SortedNodes() {
		for k, p := range n.Published {
			at := path("nodes", n.Name, "publish", k)
			kk := key{p.HostPort, p.Proto}
			for _, u := range uses[kk] {
				if u.ip == p.HostIP || u.ip.IsUnspecified() || p.HostIP.IsUnspecified() {
					c.ps.add(at, "host port %d/%s is already published by %s", p.HostPort, p.Proto, u.by)
					break
				}
			}
			uses[kk] = append(uses[kk], use{p.HostIP, at})
		}
	}
}

// dependencies finds cycles in depends_on and names them.
func (c *checker) dependencies() {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n *Node)
	visit = func(n *Node) {
		state[n.Name] = active
		stack = append(stack, n.Name)
		for k, d := range n.DependsOn {
			m := c.lab.Nodes[d]
			if m == nil || d == n.Name {
				continue
			}
			switch state[d] {
			case active:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cycle := append(append([]string(nil), stack[i:]...), d)
				c.ps.add(path("nodes", n.Name, "depends_on", k), "depends_on cycle: %s", strings.Join(cycle, " -> "))
			case unseen:
				visit(m)
			}
		}
		stack = stack[:len(stack)-1]
		state[n.Name] = done
	}
	for _, n := range c.lab.SortedNodes() {
		if state[n.Name] == unseen {
			visit(n)
		}
	}
}
