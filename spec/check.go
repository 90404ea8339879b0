package spec

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
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
	c.resources()
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
