package wire

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/netlab/netlab/naming"
)

// A node on Kubernetes is a pod: besides its lab's interfaces it has the
// pod network's (naming.PodIface), on which every pod of the cluster, of
// any lab, can reach it, which the class's labs must not. So each node
// has a guard in its own namespace, the inet table naming.PodGuardTable:
//
//	input: iifname pod0 ct state established,related accept
//	       iifname pod0 udp dport 4789 ip saddr @peers4 accept
//	       iifname pod0 udp dport 4789 ip6 saddr @peers6 accept
//	       iifname pod0 drop
//
// The node's own traffic on the pod network (the tunnels it sends, a
// name server of the host's) is answered; a tunnel's packets come in from
// the node's tunnel peers only (the pods at the far ends of its links
// across hosts, added as each end is made: AllowTunnelPeer); nothing else
// of the pod network reaches the node. The table is the node's, so a lab
// that flushes its node's rules opens that node only. netlab's firewall
// table (EnsureFirewall) accepts the tunnels' UDP on pod0 for the same
// reason: a lab's firewall policy is for the lab's interfaces.

var podGuardTag = []byte("netlab-pod v1")

// EnsurePodGuard writes the node's pod guard in ns, unless it is there
// (its peers are kept).
func EnsurePodGuard(ns *NS) (changed bool, err error) {
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: naming.PodGuardTable}
	if tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet); err == nil {
		for _, t := range tables {
			if t.Name == table.Name {
				if tableCurrent(c, t, map[string]int{"input": 4}, podGuardTag) {
					return false, nil
				}
				c.DelTable(t)
			}
		}
	}
	c.AddTable(table)
	sets := podGuardSets(table)
	for _, s := range sets {
		if err := c.AddSet(s, nil); err != nil {
			return false, fmt.Errorf("nftables set %s: %w", s.Name, err)
		}
	}
	policy := nftables.ChainPolicyAccept
	chain := c.AddChain(&nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &policy})
	for _, e := range podGuardRules(sets) {
		c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: e, UserData: podGuardTag})
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write nftables table %s: %w", naming.PodGuardTable, err)
	}
	return true, nil
}

// podGuardSets are the guard's sets of tunnel peers, IPv4 and IPv6.
func podGuardSets(table *nftables.Table) [2]*nftables.Set {
	return [2]*nftables.Set{
		{Table: table, Name: "peers4", KeyType: nftables.TypeIPAddr, ID: 1},
		{Table: table, Name: "peers6", KeyType: nftables.TypeIP6Addr, ID: 2},
	}
}

// podGuardRules are the guard's input rules. Pure, so that it is tested
// without root.
func podGuardRules(sets [2]*nftables.Set) [][]expr.Any {
	pod := matchIfname(expr.MetaKeyIIFNAME, naming.PodIface)
	from := func(family int, set *nftables.Set) []expr.Any {
		off, size := uint32(12), uint32(4)
		if family == 6 {
			off, size = 8, 16
		}
		return join(pod, matchFamily(false, family), matchProto("udp"), matchPorts(VXLANPort, VXLANPort, false),
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
				&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
				accept(),
			})
	}
	return [][]expr.Any{
		join(pod, ctEstablished()),
		from(4, sets[0]),
		from(6, sets[1]),
		join(pod, []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
	}
}

// AllowTunnelPeer lets the tunnel packets of peer (the far end's pod
// address of one of the node's links across hosts) through the node's
// pod guard, which it makes first if it is not there.
func AllowTunnelPeer(ns *NS, peer netip.Addr) error {
	if _, err := EnsurePodGuard(ns); err != nil {
		return err
	}
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: naming.PodGuardTable}
	sets := podGuardSets(table)
	set := sets[0]
	if peer.Is6() {
		set = sets[1]
	}
	s, err := c.GetSetByName(table, set.Name)
	if err != nil {
		return fmt.Errorf("nftables set %s of %s: %w", set.Name, naming.PodGuardTable, err)
	}
	if err := c.SetAddElements(s, []nftables.SetElement{{Key: peer.AsSlice()}}); err != nil {
		return fmt.Errorf("add tunnel peer %s: %w", peer, err)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add tunnel peer %s to %s: %w", peer, naming.PodGuardTable, err)
	}
	return nil
}
