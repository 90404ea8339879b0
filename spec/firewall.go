package spec

import (
	"net/netip"
	"strconv"
	"strings"
)

// Firewall is a node's packet filter: nftables in the node's namespace,
// written from the host in netlab's own table. Established and related
// traffic is accepted before the rules; then the rules in order; then the
// chain's policy.
type Firewall struct {
	Input   string          `yaml:"input,omitempty" json:"input,omitempty"`     // accept (default) or drop
	Forward string          `yaml:"forward,omitempty" json:"forward,omitempty"` // accept (default) or drop
	Output  string          `yaml:"output,omitempty" json:"output,omitempty"`   // accept (default) or drop
	Rules   []*FirewallRule `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// FirewallRule matches packets and accepts, drops or rejects them.
type FirewallRule struct {
	Chain  string `yaml:"chain" json:"chain"`   // input, forward or output
	Action string `yaml:"action" json:"action"` // accept, drop or reject
	Proto  string `yaml:"proto,omitempty" json:"proto,omitempty"`
	Port   string `yaml:"port,omitempty" json:"port,omitempty"` // "80" or "8000-8080"
	From   string `yaml:"from,omitempty" json:"from,omitempty"` // a prefix, an address or a node
	To     string `yaml:"to,omitempty" json:"to,omitempty"`
	In     string `yaml:"in,omitempty" json:"in,omitempty"`
	Out    string `yaml:"out,omitempty" json:"out,omitempty"`

	PortMin, PortMax int            `yaml:"-" json:"-"` // parsed Port (0 if none)
	FromNets, ToNets []netip.Prefix `yaml:"-" json:"-"` // resolved From and To (nil: any)
}

// resolvePeer turns a rule's from or to into prefixes: a prefix, an
// address, or every address of a node of the lab.
func (c *checker) resolvePeer(at, s string) ([]netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return []netip.Prefix{p.Masked()}, true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, true
	}
	n := c.lab.Nodes[s]
	if n == nil {
		c.ps.add(at, "%q is neither a prefix, an address nor a node (nodes: %s)", s, c.knownNodes())
		return nil, false
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, i := range n.SortedInterfaces() {
		for _, a := range i.Addrs {
			p := netip.PrefixFrom(a.Addr(), a.Addr().BitLen())
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		c.ps.add(at, "node %s has no address to match: give it one, or write a prefix", s)
		return nil, false
	}
	return out, true
}

// ports checks a rule's port or range, which needs proto tcp or udp; 0, 0
// when there is none.
func (c *checker) ports(at, port, proto string) (lo, hi int) {
	if port == "" {
		return 0, 0
	}
	lo, hi, ok := parsePortRange(port)
	switch {
	case !ok:
		c.ps.add(at, "%q is not a port or a range like 80 or 8000-8080", port)
	case proto != "tcp" && proto != "udp":
		c.ps.add(at, "a port needs proto: tcp or proto: udp")
	}
	return lo, hi
}

// parsePortRange parses "80" or "8000-8080".
func parsePortRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(strings.TrimSpace(b))
	}
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// firewall checks a node's firewall and resolves its rules. Runs after
// addresses are allocated, so that node names resolve to addresses.
func (c *checker) firewall(n *Node) {
	fw := n.Firewall
	if fw == nil {
		return
	}
	at := path("nodes", n.Name, "firewall")
	for _, p := range []*string{&fw.Input, &fw.Forward, &fw.Output} {
		if *p == "" {
			*p = "accept"
		}
	}
	for k, r := range fw.Rules {
		rat := path(at, "rules", k)
		r.PortMin, r.PortMax = c.ports(path(rat, "port"), r.Port, r.Proto)
		if r.In != "" && n.Interfaces[r.In] == nil {
			c.ps.add(path(rat, "in"), "unknown interface %q (known: %s)", r.In, c.knownIfaces(n))
		}
		if r.Out != "" && n.Interfaces[r.Out] == nil {
			c.ps.add(path(rat, "out"), "unknown interface %q (known: %s)", r.Out, c.knownIfaces(n))
		}
		if r.In != "" && r.Chain == "output" {
			c.ps.add(path(rat, "in"), "the output chain sees no incoming interface: use out")
		}
		if r.Out != "" && r.Chain == "input" {
			c.ps.add(path(rat, "out"), "the input chain sees no outgoing interface: use in")
		}
		ok := true
		if r.From != "" {
			r.FromNets, ok = c.resolvePeer(path(rat, "from"), r.From)
		}
		if r.To != "" {
			var ok2 bool
			r.ToNets, ok2 = c.resolvePeer(path(rat, "to"), r.To)
			ok = ok && ok2
		}
		if !ok {
			continue
		}
		if len(RuleFamilies(r)) == 0 {
			c.ps.add(rat, "the rule can match no packet: its from, to and proto have no address family in common")
		}
	}
}

// RuleFamilies are the address families (4, 6) a rule can match, given its
// proto and the families of its from and to.
func RuleFamilies(r *FirewallRule) []int {
	var out []int
	for _, f := range []int{4, 6} {
		if r.Proto == "icmp" && f == 6 || r.Proto == "icmpv6" && f == 4 {
			continue
		}
		if anyOrFamily(r.FromNets, f) && anyOrFamily(r.ToNets, f) {
			out = append(out, f)
		}
	}
	return out
}

// anyOrFamily tells whether nets (nil: any address) match family f.
func anyOrFamily(nets []netip.Prefix, f int) bool {
	return nets == nil || hasFamily(nets, f)
}

// isolation checks an isolated network's allow list: members by name,
// protocols and ports.
func (c *checker) isolation(name string, nw *Network) {
	at := path("networks", name)
	if !nw.Isolated && len(nw.Allow) > 0 {
		c.ps.add(path(at, "allow"), "allow is for isolated networks: add isolated: true, or remove allow")
		return
	}
	if len(nw.Allow) == 0 {
		return
	}
	var members []string
	member := map[string]bool{}
	for _, m := range c.members[name] {
		if !member[m.node.Name] {
			member[m.node.Name] = true
			members = append(members, m.node.Name)
		}
	}
	for k, a := range nw.Allow {
		aat := path(at, "allow", k)
		for key, node := range map[string]string{"from": a.From, "to": a.To} {
			if node != "" && !member[node] {
				c.ps.add(path(aat, key), "%q is not a member of network %s (members: %s)", node, name, quoteList(members))
			}
		}
		a.PortMin, a.PortMax = c.ports(path(aat, "port"), a.Port, a.Proto)
	}
}
