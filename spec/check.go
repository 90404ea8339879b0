package spec

import (
	"fmt"
	"hash/fnv"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

// MaxIfName is the longest interface name the kernel takes (IFNAMSIZ-1).
const MaxIfName = 15

var (
	labelRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	networkRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	sysctlRe  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)+$`)
	envRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	rateRe    = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps)$`)
)

// applyDefaults fills in what the file leaves out: names, defaults, hostnames.
func applyDefaults(lab *Lab) {
	for name, nw := range lab.Networks {
		if nw == nil {
			lab.Networks[name] = &Network{}
		}
	}
	for name, n := range lab.Nodes {
		n.Name = name
		n.inherited = map[string]bool{}
		if n.Image == "" {
			n.Image = lab.Defaults.Image
			n.inherited["image"] = n.Image != ""
		}
		if n.Hostname == "" {
			n.Hostname = name
		}
		d := &lab.Defaults
		n.Command = orList(n, "command", n.Command, d.Command)
		n.Volumes = orList(n, "volumes", n.Volumes, d.Volumes)
		n.CapAdd = orList(n, "cap_add", n.CapAdd, d.CapAdd)
		n.CapDrop = orList(n, "cap_drop", n.CapDrop, d.CapDrop)
		n.DNS = orList(n, "dns", n.DNS, d.DNS)
		n.DNSSearch = orList(n, "dns_search", n.DNSSearch, d.DNSSearch)
		if n.DependsOn == nil { // not on itself: defaults.depends_on [dns] leaves dns alone
			for _, dep := range d.DependsOn {
				if dep != name {
					n.DependsOn = append(n.DependsOn, dep)
				}
			}
			n.inherited["depends_on"] = d.DependsOn != nil
		}
		switch {
		case n.ForwardKey != nil:
			n.Forward = *n.ForwardKey
		case d.Forward != nil:
			n.Forward = *d.Forward
		}
		for k := range lab.Defaults.Env {
			if _, own := n.Env[k]; !own {
				n.inherited["env."+k] = true
			}
		}
		for k := range lab.Defaults.Sysctls {
			if _, own := n.Sysctls[k]; !own {
				n.inherited["sysctls."+k] = true
			}
		}
		n.Env = mergeMap(lab.Defaults.Env, n.Env)
		n.Sysctls = mergeMap(lab.Defaults.Sysctls, n.Sysctls)
		for ifname, i := range n.Interfaces {
			if i == nil {
				i = &Interface{}
				n.Interfaces[ifname] = i
			}
			i.Name = ifname
			if nw := lab.Networks[i.Network]; i.MTU == 0 && nw != nil {
				i.MTU = nw.MTU
			}
		}
	}
	for i, l := range lab.Links {
		l.Index = i
		l.HostEnd = -1
	}
}

// orList is a node's list, or the default's when the node gives none (an
// empty list written in the file is a value: it replaces the default).
func orList[S ~[]string](n *Node, key string, own, def S) S {
	if own == nil && def != nil {
		n.inherited[key] = true
		return def
	}
	return own
}

// at is the path of a node's key: under defaults when the node took the
// default's value, so that a problem in it is reported once, where it is.
func (n *Node) at(key string, more ...any) string {
	if k, ok := firstString(more); ok && n.inherited[key+"."+k] || n.inherited[key] {
		return path(append([]any{"defaults", key}, more...)...)
	}
	return path(append([]any{"nodes", n.Name, key}, more...)...)
}

func firstString(l []any) (string, bool) {
	if len(l) == 0 {
		return "", false
	}
	s, ok := l[0].(string)
	return s, ok
}

func mergeMap(base, over map[string]string) map[string]string {
	if len(base) == 0 {
		return over
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// SortedNodes returns the lab's nodes ordered by name.
func (l *Lab) SortedNodes() []*Node {
	out := make([]*Node, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SortedNetworks returns the lab's network names in order.
func (l *Lab) SortedNetworks() []string { return slices.Sorted(maps.Keys(l.Networks)) }

// SortedInterfaces returns the node's interfaces ordered by name.
func (n *Node) SortedInterfaces() []*Interface {
	out := make([]*Interface, 0, len(n.Interfaces))
	for _, name := range slices.Sorted(maps.Keys(n.Interfaces)) {
		out = append(out, n.Interfaces[name])
	}
	return out
}

// member is an interface on a segment (a network or a link).
type member struct {
	node  *Node
	iface *Interface
}

func (m member) String() string { return m.node.Name + ":" + m.iface.Name }

// checker runs the semantic checks; each method adds what it finds.
type checker struct {
	lab     *Lab
	ps      *problems
	members map[string][]member // network name -> interfaces on it, in node/interface order
	images  map[string]error    // image reference -> why it is not one (nil: it is)

	known      map[string]string    // "(known: ...)" lists made so far: "nodes", "networks", "interfaces of NODE"
	hostLinks  map[string]*Link     // host interface -> the link it ends (host:IFNAME)
	hostNames  map[string]*Node     // names in /etc/hosts -> their node, made by lookupHost
	lowerNames map[string]*Node     // node names in lower case -> their node, made by nodeNamesDiffer
	hostAddrs  map[*Node]netip.Addr // each node's HostAddr, as lookupHost finds them
}

func check(lab *Lab, ps *problems) {
	c := &checker{lab: lab, ps: ps, members: map[string][]member{}, images: map[string]error{}, known: map[string]string{}, hostLinks: map[string]*Link{}}
	if !labelRe.MatchString(lab.Name) {
		ps.add("name", "lab name %q is not a valid host name label (letters, digits and '-', at most 63)", lab.Name)
	}
	for _, name := range lab.SortedNetworks() {
		c.network(name, lab.Networks[name])
	}
	c.nodeNamesDiffer()
	for _, n := range lab.SortedNodes() {
		c.node(n)
	}
	c.links()
	c.unconnected()
	c.vlans()
	c.dhcpRanges()
	c.allocate()
	c.ipv6MTU()
	c.dhcpServers()
	c.segments()
	for _, n := range lab.SortedNodes() {
		c.routing(n)
		c.nat(n)
		c.firewall(n)
		c.protocols(n)
	}
	c.published()
	c.dependencies()
	for _, name := range slices.Sorted(maps.Keys(lab.Networks)) {
		c.isolation(name, lab.Networks[name])
	}
	c.checks()
	c.stages()
}

// knownNodes, knownNetworks and knownIfaces list names for hints like
// "unknown node "x" (known: a, b)", each list made once: a lab of 100,000
// nodes may have as many mistakes.
func (c *checker) knownNodes() string {
	return c.knownList("nodes", func() []string { return slices.Collect(maps.Keys(c.lab.Nodes)) })
}

func (c *checker) knownNetworks() string {
	return c.knownList("networks", func() []string { return slices.Collect(maps.Keys(c.lab.Networks)) })
}

func (c *checker) knownIfaces(n *Node) string {
	return c.knownList("interfaces of "+n.Name, func() []string { return slices.Collect(maps.Keys(n.Interfaces)) })
}

func (c *checker) knownList(what string, names func() []string) string {
	s, ok := c.known[what]
	if !ok {
		s = quoteList(names())
		c.known[what] = s
	}
	return s
}

func (c *checker) network(name string, nw *Network) {
	at := path("networks", name)
	for key, dev := range map[string]string{"external": nw.External, "macvlan": nw.Macvlan} {
		if msg := ifNameProblem(dev); dev != "" && msg != "" {
			c.ps.add(path(at, key), "%s", msg)
		}
	}
	if nw.External != "" && nw.Macvlan != "" {
		c.ps.add(path(at, "macvlan"), "a network is on an external bridge or on macvlans of a host interface, not both")
	}
	if nw.Macvlan != "" && nw.Isolated {
		c.ps.add(path(at, "isolated"), "members of a macvlan network meet in the host interface's macvlan bridge, which netlab cannot filter: use a lab bridge or external for an isolated segment")
	}
	if !networkRe.MatchString(name) {
		c.ps.addKey(at, "network name %q must start with a letter or digit and hold only letters, digits, '_', '.' and '-' (at most 63)", name)
	}
	if nw.Subnet != "" {
		nw.Prefix = c.subnet(path(at, "subnet"), nw.Subnet, 4)
	}
	if nw.Subnet6 != "" {
		nw.Prefix6 = c.subnet(path(at, "subnet6"), nw.Subnet6, 6)
	}
	if nw.DHCP != nil {
		c.dhcpConfig(name, nw)
	}
}

// subnet parses a network prefix of the given family (4 or 6).
func (c *checker) subnet(at, s string, family int) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		ex := map[int]string{0: "10.0.0.0/24 or fd00::/64", 4: "10.0.0.0/24", 6: "fd00::/64"}[family]
		c.ps.add(at, "%q is not a prefix like %s", s, ex)
		return netip.Prefix{}
	}
	if family != 0 && fam(p.Addr()) != family {
		c.ps.add(at, "%s is not an IPv%d prefix", s, family)
		return netip.Prefix{}
	}
	if p.Masked() != p {
		c.ps.add(at, "%s has host bits set; did you mean %s?", s, p.Masked())
		return netip.Prefix{}
	}
	if kind := addrKindProblem(p.Addr()); kind != "" {
		c.ps.add(at, "%s is a %s prefix: a lab's hosts cannot take its addresses", s, kind)
		return netip.Prefix{}
	}
	return p
}

func fam(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func (c *checker) node(n *Node) {
	at := path("nodes", n.Name)
	if !labelRe.MatchString(n.Name) {
		c.ps.addKey(at, "node name %q is not a valid host name label (letters, digits and '-', at most 63)", n.Name)
	}
	if n.Image == "" {
		c.ps.addKey(at, "no image: set nodes.%s.image or defaults.image", n.Name)
	} else if err := c.imageRef(n.Image); err != nil {
		c.ps.add(n.at("image"), "%q is not an image reference: %v", n.Image, err)
	}
	if n.Hostname != n.Name && (!validDNSName(n.Hostname) || len(n.Hostname) > 63) {
		c.ps.add(path(at, "hostname"), "%q is not a valid host name (dot-separated labels, at most 63 bytes)", n.Hostname)
	} else {
		c.hostnameShadows(n)
	}
	c.caps(n)
	for _, i := range n.SortedInterfaces() {
		c.iface(n, i)
	}
	for k, s := range n.DNS {
		if _, err := netip.ParseAddr(s); err != nil {
			c.ps.add(n.at("dns", k), "%q is not an IP address", s)
		}
	}
	for k, s := range n.DNSSearch {
		if !validDNSName(s) {
			c.ps.add(n.at("dns_search", k), "%q is not a valid domain name", s)
		}
	}
	for k, v := range n.Volumes {
		c.volume(n.at("volumes", k), v)
	}
	for _, k := range slices.Sorted(maps.Keys(n.Sysctls)) {
		switch {
		case !sysctlRe.MatchString(k):
			c.ps.addKey(n.at("sysctls", k), "%q is not a sysctl name like net.ipv4.ip_forward", k)
		case !namespacedSysctl(k):
			c.ps.addKey(n.at("sysctls", k), "%s is the host's, not the node's: a node sets net.* sysctls (and the IPC ones, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*); set it on the machine if the lab needs it", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(n.Env)) {
		if !envRe.MatchString(k) {
			c.ps.addKey(n.at("env", k), "%q is not a valid environment variable name", k)
		}
	}
	for k, s := range n.Publish {
		p, err := parsePublish(s)
		if err != nil {
			c.ps.add(path(at, "publish", k), "%v", err)
			continue
		}
		n.Published = append(n.Published, p)
	}
	for k, d := range n.DependsOn {
		if d == n.Name {
			c.ps.add(n.at("depends_on", k), "a node cannot depend on itself")
		} else if c.lab.Nodes[d] == nil {
			c.ps.add(n.at("depends_on", k), "unknown node %q (known: %s)", d, c.knownNodes())
		}
	}
}

func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !labelRe.MatchString(l) {
			return false
		}
	}
	return true
}

func (c *checker) volume(at, v string) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		c.ps.add(at, "%q is not a bind mount like ./data:/srv/data or ./data:/srv/data:ro", v)
		return
	}
	if !strings.HasPrefix(parts[1], "/") {
		c.ps.add(at, "the container path %q must be absolute", parts[1])
	}
	if len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" {
		c.ps.add(at, "mount option %q must be ro or rw", parts[2])
	}
}

func (c *checker) iface(n *Node, i *Interface) {
	at := path("nodes", n.Name, "interfaces", i.Name)
	if msg := ifNameProblem(i.Name); msg != "" {
		c.ps.addKey(at, "%s", msg)
	}
	c.vlanIface(n, i, at)
	for k, a := range i.NDPProxy {
		addr, err := netip.ParseAddr(a)
		switch {
		case err != nil || !addr.Is6() || addr.Is4In6():
			c.ps.add(path(at, "ndp_proxy", k), "%q is not an IPv6 address", a)
		case !n.Forward:
			c.ps.add(path(at, "ndp_proxy", k), "proxy NDP answers for hosts the node forwards to: set forward: true on %s", n.Name)
		default:
			i.Proxied = append(i.Proxied, addr)
		}
	}
	var nw *Network
	if i.Network != "" {
		nw = c.lab.Networks[i.Network]
		if nw == nil {
			c.ps.add(path(at, "network"), "unknown network %q (known: %s)", i.Network, c.knownNetworks())
		} else {
			c.members[i.Network] = append(c.members[i.Network], member{n, i})
		}
	}
	for k, s := range i.Address {
		aat := path(at, "address")
		if len(i.Address) > 1 {
			aat = path(aat, k)
		}
		if s == SLAACAddress {
			if i.SLAAC {
				c.ps.add(aat, "slaac is given twice")
			}
			i.SLAAC = true
			continue
		}
		if s == DHCPAddress {
			if i.DHCP {
				c.ps.add(aat, "dhcp is given twice")
			}
			i.DHCP = true
			continue
		}
		p, ok := c.ifaceAddr(aat, s)
		if !ok {
			continue
		}
		if nw != nil && i.VID == 0 { // a VLAN is a segment of its own: the network's subnets are the untagged one's
			if sub := nw.subnetFor(p.Addr()); sub.IsValid() && !sub.Contains(p.Addr()) {
				c.ps.add(aat, "%s is outside network %s's subnet %s", p.Addr(), i.Network, sub)
				continue
			}
		}
		if i.DHCP && p.Addr().Is4() {
			c.ps.add(aat, "%s:%s takes its IPv4 address by DHCP (address: dhcp), so it cannot also have %s: keep one of them", n.Name, i.Name, p)
			continue
		}
		i.Addrs = append(i.Addrs, p)
	}
	if i.DHCP && hasFamily(i.Addrs, 4) {
		c.ps.add(path(at, "address"), "%s:%s takes its IPv4 address by DHCP (address: dhcp), so it cannot also have %s: keep one of them", n.Name, i.Name, firstOfFamily(i.Addrs, 4))
		i.Addrs = slices.DeleteFunc(i.Addrs, func(p netip.Prefix) bool { return p.Addr().Is4() })
	}
	if i.MAC != "" {
		hw, err := net.ParseMAC(i.MAC)
		switch {
		case err != nil || len(hw) != 6:
			c.ps.add(path(at, "mac"), "%q is not a MAC address like 02:42:0a:00:00:01", i.MAC)
		case hw[0]&1 == 1:
			c.ps.add(path(at, "mac"), "%s is a multicast address; the first octet must be even", i.MAC)
		}
	}
}

// subnetFor returns the network's subnet of a's family (zero if none).
func (nw *Network) subnetFor(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return nw.Prefix
	}
	return nw.Prefix6
}

// ifaceAddr parses an interface address with its prefix length.
func (c *checker) ifaceAddr(at, s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, err2 := netip.ParseAddr(s); err2 == nil {
			ex := "/24"
			if a.Is6() {
				ex = "/64"
			}
			c.ps.add(at, "address %s needs a prefix length, e.g. %s%s", s, s, ex)
		} else {
			c.ps.add(at, "%q is not an address with prefix length like 10.0.0.1/24 or fd00::1/64", s)
		}
		return p, false
	}
	a := p.Addr()
	switch {
	case a.IsUnspecified() || a.IsLoopback() || a.IsMulticast():
		c.ps.add(at, "%s cannot be an interface address (unspecified, loopback or multicast)", a)
		return p, false
	case a.Is4() && p.Bits() <= 30 && a == p.Masked().Addr():
		c.ps.add(at, "%s is the network address of %s; hosts need another", a, p.Masked())
		return p, false
	case a.Is4() && p.Bits() <= 30 && a == lastAddr(p):
		c.ps.add(at, "%s is the broadcast address of %s; hosts need another", a, p.Masked())
		return p, false
	}
	return p, true
}

// lastAddr is the highest address of p (the IPv4 broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

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

// imageRef checks an image reference the way the Docker engine will (a
// name, a tag, a digest: "debian:12", "netlab/host"), or "oci:PATH" (an
// OCI image layout) or "rootfs:PATH" (a root file system) for the runc
// runtime, so that validate refuses what up would fail on.
func (c *checker) imageRef(image string) error {
	if err, ok := c.images[image]; ok {
		return err
	}
	var err error
	if kind, p, ok := strings.Cut(image, ":"); ok && (kind == "oci" || kind == "rootfs") {
		if p == "" {
			err = fmt.Errorf("%s: needs a path", kind)
		}
	} else if _, perr := reference.ParseNormalizedNamed(image); perr != nil {
		err = fmt.Errorf("%v (write a name such as netlab/host or debian:12: lower case, no spaces)", strings.TrimPrefix(perr.Error(), "invalid reference format: "))
	}
	c.images[image] = err
	return err
}
