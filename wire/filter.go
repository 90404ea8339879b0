package wire

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Expressions shared by the firewall and the isolation table.

func matchIfname(key expr.MetaKey, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)},
	}
}

// matchFamily matches IPv4 (4) or IPv6 (6) packets: meta nfproto in an
// inet table, meta protocol (the ethertype) in a bridge table.
func matchFamily(bridge bool, family int) []expr.Any {
	if bridge {
		eth := []byte{0x08, 0x00}
		if family == 6 {
			eth = []byte{0x86, 0xdd}
		}
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: eth},
		}
	}
	nf := byte(unix.NFPROTO_IPV4)
	if family == 6 {
		nf = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{nf}},
	}
}

var protoNumbers = map[string]byte{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "icmp": unix.IPPROTO_ICMP, "icmpv6": unix.IPPROTO_ICMPV6}

func matchProto(proto string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{protoNumbers[proto]}},
	}
}

// matchPorts matches the destination (or source) port range of TCP/UDP.
func matchPorts(lo, hi int, source bool) []expr.Any {
	off := uint32(2)
	if source {
		off = 0
	}
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2}
	if lo == hi {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port16(lo)}}
	}
	return []expr.Any{load, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: port16(lo), ToData: port16(hi)}}
}

// matchPrefix matches the source or destination address against a prefix.
func matchPrefix(p netip.Prefix, source bool) []expr.Any {
	off, size := uint32(16), uint32(4)
	if p.Addr().Is6() {
		off, size = 24, 16
	}
	if source {
		off -= size
	}
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size}
	if p.Bits() == p.Addr().BitLen() {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()}}
	}
	m := make([]byte, size)
	for i := 0; i < p.Bits(); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{load,
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: size, Mask: m, Xor: make([]byte, size)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ctEstablished accepts packets of established and related connections.
func ctEstablished() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// neighbourDiscovery accepts ICMPv6 router and neighbour solicitations and
// advertisements (types 133-136): without them IPv6 stops working at all.
func neighbourDiscovery() []expr.Any {
	return append(matchProto("icmpv6"),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{133}, ToData: []byte{136}},
		&expr.Verdict{Kind: expr.VerdictAccept})
}

func accept() expr.Any { return &expr.Verdict{Kind: expr.VerdictAccept} }

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// firewallChains are the chains of a node's firewall, in order.
var firewallChains = []struct {
	name string
	hook *nftables.ChainHook
}{
	{"input", nftables.ChainHookInput},
	{"forward", nftables.ChainHookForward},
	{"output", nftables.ChainHookOutput},
}

// firewallRules builds the rules of each chain of a node's firewall: the
// fixed ones first (established and related; loopback; IPv6 neighbour
// discovery), then the file's rules in order, each expanded over its
// families and peers. Pure, so that it is tested without root.
func firewallRules(f *planner.Firewall) map[string][][]expr.Any {
	// A node on Kubernetes: its links across hosts are tunnels over the
	// pod network (UDP VXLANPort on naming.PodIface), which the lab's
	// policy is not for (the pod guard filters what comes in there).
	tunnels := func(key expr.MetaKey) []expr.Any {
		return join(matchIfname(key, naming.PodIface), matchProto("udp"), matchPorts(VXLANPort, VXLANPort, false), []expr.Any{accept()})
	}
	out := map[string][][]expr.Any{
		"input":   {ctEstablished(), join(matchIfname(expr.MetaKeyIIFNAME, "lo"), []expr.Any{accept()}), neighbourDiscovery(), tunnels(expr.MetaKeyIIFNAME)},
		"forward": {ctEstablished()},
		"output":  {ctEstablished(), join(matchIfname(expr.MetaKeyOIFNAME, "lo"), []expr.Any{accept()}), neighbourDiscovery(), tunnels(expr.MetaKeyOIFNAME)},
	}
	for _, r := range f.Rules {
		var verdict []expr.Any
		switch r.Action {
		case "accept":
			verdict = []expr.Any{accept()}
		case "drop":
			verdict = []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}
		case "reject":
			if r.Proto == "tcp" {
				verdict = []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}
			} else {
				verdict = []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED}}
			}
		}
		var common []expr.Any
		if r.In != "" {
			common = append(common, matchIfname(expr.MetaKeyIIFNAME, r.In)...)
		}
		if r.Out != "" {
			common = append(common, matchIfname(expr.MetaKeyOIFNAME, r.Out)...)
		}
		for _, fam := range r.Families {
			head := join(matchFamily(false, fam), common)
			if r.Proto != "" {
				head = append(head, matchProto(r.Proto)...)
			}
			if r.PortMin > 0 {
				head = append(head, matchPorts(r.PortMin, r.PortMax, false)...)
			}
			for _, from := range peers(r.From, fam) {
				for _, to := range peers(r.To, fam) {
					e := append([]expr.Any{}, head...)
					if from.IsValid() {
						e = append(e, matchPrefix(from, true)...)
					}
					if to.IsValid() {
						e = append(e, matchPrefix(to, false)...)
					}
					out[r.Chain] = append(out[r.Chain], append(e, verdict...))
				}
			}
		}
	}
	return out
}

// peers are the prefixes of one family, or a single zero prefix (any)
// when the rule gives none.
func peers(nets []netip.Prefix, family int) []netip.Prefix {
	if nets == nil {
		return []netip.Prefix{{}}
	}
	var out []netip.Prefix
	for _, p := range nets {
		if p.Addr().Is4() == (family == 4) {
			out = append(out, p)
		}
	}
	return out
}

// tableCurrent tells whether each chain of the table holds exactly the
// expected number of rules, all tagged with tag.
func tableCurrent(c *nftables.Conn, table *nftables.Table, want map[string]int, tag []byte) bool {
	for name, n := range want {
		rules, err := c.GetRules(table, &nftables.Chain{Name: name, Table: table})
		if err != nil || len(rules) != n {
			return false
		}
		for _, r := range rules {
			if !bytes.Equal(r.UserData, tag) {
				return false
			}
		}
	}
	return true
}

// EnsureFirewall writes the node's filter table (inet netlab-filter) in its
// namespace in one batch, replacing an older one unless it is current.
func EnsureFirewall(ns *NS, f *planner.Firewall) (changed bool, err error) {
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: naming.FirewallTable}
	tag := jsonTag(f)
	rules := firewallRules(f)
	want := map[string]int{}
	for name, list := range rules {
		want[name] = len(list)
	}
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet); err == nil {
		for _, t := range tables {
			if t.Name == table.Name {
				if tableCurrent(c, t, want, tag) {
					return false, nil
				}
				c.DelTable(t)
			}
		}
	}
	c.AddTable(table)
	policy := map[string]string{"input": f.Input, "forward": f.Forward, "output": f.Output}
	for _, ch := range firewallChains {
		p := nftables.ChainPolicyAccept
		if policy[ch.name] == "drop" {
			p = nftables.ChainPolicyDrop
		}
		chain := c.AddChain(&nftables.Chain{Name: ch.name, Table: table, Type: nftables.ChainTypeFilter,
			Hooknum: ch.hook, Priority: nftables.ChainPriorityFilter, Policy: &p})
		for _, e := range rules[ch.name] {
			c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: e, UserData: tag})
		}
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write nftables table %s: %w", naming.FirewallTable, err)
	}
	return true, nil
}
