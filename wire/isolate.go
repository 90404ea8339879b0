package wire

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Isolated segments are filtered by one nftables table of the bridge
// family per lab on the host, "netlab-LAB", with one forward chain: a frame
// that enters the bridge from a member's port and leaves by another
// member's port is dropped if it carries IPv4 or IPv6, unless an allow rule
// (or its reply rule) matched first. Routers' ports are not members, so
// members reach their routers and through them the world. ARP and IPv6
// neighbour discovery pass, so that allowed traffic finds its peer.
//
// Chosen over the bridge ports' "isolated" flag, which is all or nothing
// (no allow), and over iptables, whose chains are shared with Docker. The
// host's own tables are not touched; down deletes the lab's table.
//
// A network whose bridge spans a cluster's hosts (IsolatedNetwork.Span)
// has members on other hosts, whose frames arrive by the span: a port
// that says nothing of who sent them. There a member is known by its
// source MAC, and the member's own host makes that trustworthy: a frame
// from a member's port leaves by the span only with the member's own MAC
// as its source (a node that changes its MAC on an isolated network
// across hosts reaches only its own host). So each host drops what
// reaches its members from another host's members, and the allow rules
// hold across hosts as on one.

// isolationRules builds the rules and sets of the lab's table. Pure, so
// that it is tested without root.
func isolationRules(iso *planner.Isolate, table *nftables.Table) (sets []*nftables.Set, elems [][]nftables.SetElement, rules [][]expr.Any) {
	for k, nw := range iso.Networks {
		set := &nftables.Set{Table: table, Name: "members" + strconv.Itoa(k), KeyType: nftables.TypeIFName, ID: uint32(2*k + 1)}
		var el []nftables.SetElement
		for _, p := range nw.Members {
			el = append(el, nftables.SetElement{Key: ifname(p)})
		}
		sets, elems = append(sets, set), append(elems, el)
		spanned := nw.Span != "" && len(nw.MACs) == len(nw.Members)
		var macSet *nftables.Set
		if spanned {
			macSet = &nftables.Set{Table: table, Name: "macs" + strconv.Itoa(k), KeyType: nftables.TypeEtherAddr, ID: uint32(2*k + 2)}
			var el []nftables.SetElement
			nw.MACs = slices.Clone(nw.MACs) // normalized here, not in the plan
			for j, m := range nw.MACs {
				hw, err := net.ParseMAC(m)
				if err != nil || len(hw) != 6 {
					// The lab file's check refuses such a MAC; a member
					// without one is held to nothing it could send.
					hw = net.HardwareAddr{0, 0, 0, 0, 0, 0}
				}
				nw.MACs[j] = hw.String()
				el = append(el, nftables.SetElement{Key: hw})
			}
			sets, elems = append(sets, macSet), append(elems, el)
			// A member's frames leave for other hosts with its own MAC only.
			for j, p := range nw.Members {
				rules = append(rules, join(matchIfname(expr.MetaKeyIIFNAME, p), matchIfname(expr.MetaKeyOIFNAME, nw.Span),
					matchSourceMAC(expr.CmpOpNeq, nw.MACs[j]), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}))
			}
		}
		for _, a := range nw.Allow {
			from, to := a.From, a.To
			if from == nil {
				from = nw.Members
			}
			if to == nil {
				to = nw.Members
			}
			for _, f := range from {
				for _, t := range to {
					if f == t {
						continue
					}
					rules = append(rules, allowRules(f, t, a, remoteEnd(nw, spanned))...)
				}
			}
		}
		// Members to members (iifname and oifname in the set): IP dropped.
		betweenMembers := []expr.Any{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
		}
		between := [][]expr.Any{betweenMembers}
		if spanned {
			// From another host's member (by the span, its MAC) to a member here.
			between = append(between, []expr.Any{
				&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(nw.Span)},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
				&expr.Lookup{SourceRegister: 1, SetName: macSet.Name, SetID: macSet.ID},
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			})
		}
		for _, m := range between {
			rules = append(rules,
				join(m, matchFamily(true, 6), neighbourDiscovery()),
				join(m, matchFamily(true, 4), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
				join(m, matchFamily(true, 6), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}))
		}
	}
	return sets, elems, rules
}

// matchSourceMAC compares a frame's source MAC with mac.
func matchSourceMAC(op expr.CmpOp, mac string) []expr.Any {
	hw, _ := net.ParseMAC(mac)
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
		&expr.Cmp{Op: op, Register: 1, Data: []byte(hw)},
	}
}

// remoteEnd matches a member's frames arriving from another host: by the
// network's span, with the member's MAC. nil on one host.
func remoteEnd(nw planner.IsolatedNetwork, spanned bool) func(port string) []expr.Any {
	if !spanned {
		return nil
	}
	return func(port string) []expr.Any {
		j := slices.Index(nw.Members, port)
		if j < 0 {
			return nil
		}
		return join(matchIfname(expr.MetaKeyIIFNAME, nw.Span), matchSourceMAC(expr.CmpOpEq, nw.MACs[j]))
	}
}

// allowRules lets from's traffic to to through, and its replies (the
// bridge family has no connection tracking here: replies are matched by
// their ports). remote, when the network spans hosts, matches a member's
// frames from another host: each rule is then also made for them.
func allowRules(from, to string, a planner.AllowRule, remote func(port string) []expr.Any) [][]expr.Any {
	var out [][]expr.Any
	for _, fam := range []int{4, 6} {
		if a.Proto == "icmp" && fam == 6 || a.Proto == "icmpv6" && fam == 4 {
			continue
		}
		for dir, ends := range [][2]string{{from, to}, {to, from}} {
			sources := [][]expr.Any{matchIfname(expr.MetaKeyIIFNAME, ends[0])}
			if remote != nil {
				if r := remote(ends[0]); r != nil {
					sources = append(sources, r)
				}
			}
			for _, src := range sources {
				e := join(src, matchIfname(expr.MetaKeyOIFNAME, ends[1]), matchFamily(true, fam))
				if a.Proto != "" {
					e = append(e, matchProto(a.Proto)...)
				}
				if a.PortMin > 0 {
					e = append(e, matchPorts(a.PortMin, a.PortMax, dir == 1)...)
				}
				out = append(out, append(e, accept()))
			}
		}
	}
	return out
}

// EnsureIsolation writes the lab's bridge table on the host in one batch,
// unless it is current.
func EnsureIsolation(iso *planner.Isolate) (changed bool, err error) {
	c, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyBridge, Name: iso.Table}
	tag := jsonTag(iso)
	sets, elems, rules := isolationRules(iso, table)
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyBridge); err == nil {
		for _, t := range tables {
			if t.Name == table.Name {
				if tableCurrent(c, t, map[string]int{"forward": len(rules)}, tag) {
					return false, nil
				}
				c.DelTable(t)
			}
		}
	}
	c.AddTable(table)
	for i, s := range sets {
		if err := c.AddSet(s, elems[i]); err != nil {
			return false, fmt.Errorf("nftables set %s: %w", s.Name, err)
		}
	}
	policy := nftables.ChainPolicyAccept
	chain := c.AddChain(&nftables.Chain{Name: "forward", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &policy})
	for _, e := range rules {
		c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: e, UserData: tag})
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write nftables table bridge %s: %w", iso.Table, err)
	}
	return true, nil
}

// IsolationTables lists the labs that have an isolation table on the host
// ("" lists every lab's).
func IsolationTables(lab string) ([]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyBridge)
	if err != nil {
		return nil, fmt.Errorf("list nftables bridge tables: %w", err)
	}
	var out []string
	for _, t := range tables {
		if name, ok := strings.CutPrefix(t.Name, "netlab-"); ok && (lab == "" || t.Name == naming.IsolationTable(lab)) {
			out = append(out, name)
		}
	}
	return out, nil
}

// RemoveIsolation deletes the lab's isolation table; none is success.
func RemoveIsolation(lab string) (removed bool, err error) {
	labs, err := IsolationTables(lab)
	if err != nil || len(labs) == 0 {
		return false, err
	}
	c, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyBridge, Name: naming.IsolationTable(lab)})
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("delete nftables table bridge %s: %w", naming.IsolationTable(lab), err)
	}
	return true, nil
}
