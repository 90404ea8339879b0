package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// natRules builds the expressions of a node's NAT rules: masquerade out of
// each interface (postrouting), and each port forward (prerouting). Pure, so
// that it is tested without root.
func natRules(n *planner.NAT) (post, pre [][]expr.Any) {
	for _, m := range n.Masquerade {
		post = append(post, []expr.Any{
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(m)},
			&expr.Masq{},
		})
	}
	for _, d := range n.DNAT {
		proto := byte(unix.IPPROTO_TCP)
		if d.Proto == "udp" {
			proto = unix.IPPROTO_UDP
		}
		family, addr := byte(unix.NFPROTO_IPV4), d.To.Addr().AsSlice()
		if d.To.Addr().Is6() {
			family = unix.NFPROTO_IPV6
		}
		pre = append(pre, []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{family}},
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(d.In)},
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port16(d.Port)},
			&expr.Immediate{Register: 1, Data: addr},
			&expr.Immediate{Register: 2, Data: port16(int(d.To.Port()))},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: uint32(family), RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		})
	}
	return post, pre
}

// ifname is an interface name as nftables compares it: 16 bytes, zero padded.
func ifname(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

func port16(p int) []byte {
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, uint16(p))
	return b
}

// jsonTag marks every rule of a table netlab owns with the configuration
// it was made from, so that an unchanged table is recognised and left alone.
func jsonTag(v any) []byte {
	data, _ := json.Marshal(v) // plain structs: cannot fail
	sum := sha256.Sum256(data)
	return []byte("netlab:" + hex.EncodeToString(sum[:8]))
}

// EnsureNAT writes the node's NAT table (inet "netlab") in its namespace in
// one batch, replacing an older one unless it is current. Other tables are
// left alone.
func EnsureNAT(ns *NS, n *planner.NAT) (changed bool, err error) {
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: naming.NATTable}
	tag := jsonTag(n)
	postRules, preRules := natRules(n)
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet); err == nil {
		for _, t := range tables {
			if t.Name == table.Name {
				if tableCurrent(c, t, map[string]int{"postrouting": len(postRules), "prerouting": len(preRules)}, tag) {
					return false, nil
				}
				c.DelTable(t)
			}
		}
	}
	c.AddTable(table)
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	pre := c.AddChain(&nftables.Chain{Name: "prerouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	for _, e := range postRules {
		c.AddRule(&nftables.Rule{Table: table, Chain: post, Exprs: e, UserData: tag})
	}
	for _, e := range preRules {
		c.AddRule(&nftables.Rule{Table: table, Chain: pre, Exprs: e, UserData: tag})
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write nftables table %s: %w", naming.NATTable, err)
	}
	return true, nil
}
