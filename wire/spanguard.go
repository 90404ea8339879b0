package wire

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
)

// The spans of every lab on a host share its UDP port VXLANPort, and a
// pod can send UDP to a host: a node that made up a VXLAN packet with
// another lab's span VNI would put frames on that lab's network. So each
// host that runs netlab's agent has a span guard, the inet table
// SpanGuardTable, for packets to VXLANPort whose VNI is a span's (the top
// bit of the 24 set: naming.SpanVNI; the CNI plugins' own VXLAN VNIs are
// small, as are the VNIs of the tunnels between pods, and pass):
//
//	input:   from an address of the hosts (set hosts4, hosts6), arriving
//	         where the route back to it leaves (strict reverse path):
//	         accept; else drop
//	forward: drop (a pod's packet to a host, which the host would pass
//	         on, and masquerade, to another host's spans)
//
// The agent makes it as it starts (with the addresses of the spans it
// finds), each span adds its hosts' addresses (EnsureSpan), and the agent
// removes it as it stops, unless spans run on the host (an agent rolled
// to a new image leaves the running labs' spans guarded and open).

// SpanGuardTable is the host's span guard.
const SpanGuardTable = "netlab-span"

var spanGuardTag = []byte("netlab-span v1")

// spanGuardSets are the hosts' addresses, IPv4 and IPv6.
func spanGuardSets(table *nftables.Table) [2]*nftables.Set {
	return [2]*nftables.Set{
		{Table: table, Name: "hosts4", KeyType: nftables.TypeIPAddr, ID: 1},
		{Table: table, Name: "hosts6", KeyType: nftables.TypeIP6Addr, ID: 2},
	}
}

// spanVXLAN matches a UDP packet to VXLANPort whose VNI's top bit is set.
func spanVXLAN() []expr.Any {
	return join(matchProto("udp"), matchPorts(VXLANPort, VXLANPort, false), []expr.Any{
		// The VXLAN header follows the UDP header: flags, 3 bytes, then the VNI.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 8 + 4, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0x80}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0}},
	})
}

// spanGuardRules are the guard's input and forward rules. Pure, so that
// it is tested without root.
func spanGuardRules(sets [2]*nftables.Set) (input, forward [][]expr.Any) {
	from := func(family int, set *nftables.Set) []expr.Any {
		off, size := uint32(12), uint32(4)
		if family == 6 {
			off, size = 8, 16
		}
		return join(matchFamily(false, family), spanVXLAN(), []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			// fib saddr . iif oif present: the route back leaves where it came.
			&expr.Fib{Register: 1, FlagSADDR: true, FlagIIF: true, ResultOIF: true, FlagPRESENT: true},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0}},
			accept(),
		})
	}
	drop := join(spanVXLAN(), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}})
	return [][]expr.Any{from(4, sets[0]), from(6, sets[1]), drop}, [][]expr.Any{drop}
}

// conn opens nftables in ns, or in this process's namespace (nil).
func conn(ns *NS) (*nftables.Conn, error) {
	if ns == nil {
		return nftables.New()
	}
	return nftables.New(nftables.WithNetNSFd(ns.FD()))
}

// EnsureSpanGuard makes the host's span guard unless it is there, and
// adds hosts to its addresses; ns is the host's namespace (nil: this
// process's).
func EnsureSpanGuard(ns *NS, hosts []netip.Addr) error {
	c, err := conn(ns)
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: SpanGuardTable}
	sets := spanGuardSets(table)
	current := false
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet); err == nil {
		for _, t := range tables {
			if t.Name == table.Name {
				if current = tableCurrent(c, t, map[string]int{"input": 3, "forward": 1}, spanGuardTag); !current {
					c.DelTable(t)
				}
			}
		}
	}
	if !current {
		c.AddTable(table)
		for _, s := range sets {
			if err := c.AddSet(s, nil); err != nil {
				return fmt.Errorf("nftables set %s: %w", s.Name, err)
			}
		}
		input, forward := spanGuardRules(sets)
		policy := nftables.ChainPolicyAccept
		for _, ch := range []struct {
			name  string
			hook  *nftables.ChainHook
			rules [][]expr.Any
		}{{"input", nftables.ChainHookInput, input}, {"forward", nftables.ChainHookForward, forward}} {
			chain := c.AddChain(&nftables.Chain{Name: ch.name, Table: table, Type: nftables.ChainTypeFilter,
				Hooknum: ch.hook, Priority: nftables.ChainPriorityFilter, Policy: &policy})
			for _, e := range ch.rules {
				c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: e, UserData: spanGuardTag})
			}
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("write nftables table %s: %w", SpanGuardTable, err)
		}
	}
	var v4, v6 []nftables.SetElement
	for _, h := range hosts {
		if h.Is4() {
			v4 = append(v4, nftables.SetElement{Key: h.AsSlice()})
		} else if h.IsValid() {
			v6 = append(v6, nftables.SetElement{Key: h.AsSlice()})
		}
	}
	for k, el := range [][]nftables.SetElement{v4, v6} {
		if len(el) == 0 {
			continue
		}
		s, err := c.GetSetByName(table, sets[k].Name)
		if err != nil {
			return fmt.Errorf("nftables set %s of %s: %w", sets[k].Name, SpanGuardTable, err)
		}
		if err := c.SetAddElements(s, el); err != nil {
			return fmt.Errorf("add hosts to %s: %w", SpanGuardTable, err)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add hosts to %s: %w", SpanGuardTable, err)
	}
	return nil
}

// RemoveSpanGuard deletes the host's span guard (ns as for
// EnsureSpanGuard); none is success.
func RemoveSpanGuard(ns *NS) error {
	c, err := conn(ns)
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == SpanGuardTable {
			c.DelTable(t)
			if err := c.Flush(); err != nil {
				return fmt.Errorf("delete nftables table %s: %w", SpanGuardTable, err)
			}
		}
	}
	return nil
}

// SpanHosts are the hosts' addresses that the spans on this host send
// from and to: what the span guard lets in, should it be written anew
// while spans run (an agent of a newer guard started under running labs).
func SpanHosts(h *netlink.Handle) ([]netip.Addr, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []netip.Addr
	for _, l := range links {
		v, ok := l.(*netlink.Vxlan)
		if !ok || !strings.HasPrefix(v.Name, naming.SpanPrefix) {
			continue
		}
		if ip, ok := netip.AddrFromSlice(v.SrcAddr); ok {
			out = append(out, ip.Unmap())
		}
		fdb, err := h.NeighList(v.Index, unix.AF_BRIDGE)
		if err != nil {
			return nil, fmt.Errorf("read the forwarding entries of span %s: %w", v.Name, err)
		}
		for _, n := range fdb {
			// The flooding entries (EnsureSpan's, to the other hosts), not
			// what the span learned: a learned entry's address is whoever
			// sent.
			if ip, ok := netip.AddrFromSlice(n.IP); ok && bytes.Equal(n.HardwareAddr, zeroMAC) && n.State&netlink.NUD_PERMANENT != 0 {
				out = append(out, ip.Unmap())
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}
