package wire

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/internal/nldump"
	"github.com/netlab/netlab/naming"
	"github.com/vishvananda/netlink"
)

// The host guard keeps lab nodes off the host itself: a lab's host-side
// interfaces carry no address, but the host answers ARP for any of its
// addresses on any interface and gives a bridge an IPv6 link-local
// address, so that a node could reach a service of the host (the class
// server's port, ssh, Docker's API on TCP) through its bridge, or be
// routed by the host (ip_forward, which Docker sets) to another lab.
//
// One inet table of the host's, netlab-guard, shared by every lab and
// matched by netlab's interface name prefixes (bridges nlb, bridge ports
// nlp, relay ends nlr, DHCP ends nld):
//
//	input:   jump published; jump hostlinks_input;
//	         iifname nlb*|nlp*|nlr*|nld* drop
//	forward: jump bridges; jump hostlinks_forward; from such an interface
//	         to any other kind, or the reverse, drop
//
// and the regular chain "bridges" drops, per lab bridge, what the host
// would route from it to another interface or into it from another (a
// rule tagged with the lab's name), so traffic within a bridge
// (br_netfilter shows it to the forward hook with the bridge as both
// interfaces) passes, and another lab's never does, with or without
// Docker's FORWARD policy. The regular chain
// "published" holds, per lab, an accept for each port the lab publishes
// beyond loopback, from that lab's own interfaces only (a rule tagged with
// the lab's name). A host link, consented host access (package trust), is
// held to its own addresses (guardlink.go). External bridges and macvlans,
// consented too, put nodes on the host's real networks, which is what a
// person allowed: they are not guarded. down removes the lab's rules, and the
// table when no netlab interface is left on the host.

// GuardTable is the host guard's inet table.
const GuardTable = "netlab-guard"

// guardPrefixes are the name prefixes of netlab's host-side interfaces.
var guardPrefixes = []string{naming.BridgePrefix, naming.PortPrefix, naming.RelayPrefix, naming.DHCPPrefix}

// guardTag marks the base chains' rules: a change of the rules here
// changes it, and the chains are written again.
var guardTag = []byte("netlab-guard v2")

// ifPrefix matches an interface name (iifname or oifname) on a prefix,
// as nft's "nlb*" does: only the prefix's bytes are compared.
func ifPrefix(key expr.MetaKey, prefix string, op expr.CmpOp) []expr.Any {
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: []byte(prefix)}}
}

// guardRules are the base chains' rules. Pure, so that it is tested
// without root.
func guardRules() (input, forward [][]expr.Any) {
	input = append(input, []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "published"}},
		[]expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: hostLinksInput}})
	forward = append(forward, []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "bridges"}},
		[]expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: hostLinksForward}})
	for _, p := range guardPrefixes {
		input = append(input, join(ifPrefix(expr.MetaKeyIIFNAME, p, expr.CmpOpEq), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}))
	}
	notOurs := func(key expr.MetaKey) []expr.Any {
		var e []expr.Any
		for _, p := range guardPrefixes {
			e = append(e, ifPrefix(key, p, expr.CmpOpNeq)...)
		}
		return e
	}
	for _, p := range guardPrefixes {
		forward = append(forward,
			join(ifPrefix(expr.MetaKeyIIFNAME, p, expr.CmpOpEq), notOurs(expr.MetaKeyOIFNAME), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
			join(ifPrefix(expr.MetaKeyOIFNAME, p, expr.CmpOpEq), notOurs(expr.MetaKeyIIFNAME), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}))
	}
	return input, forward
}

// guardLock serializes the labs' changes to the shared table.
func guardLock() (func(), error) {
	dir := "/run/netlab"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".guard.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// openGuard takes the guard's lock and a netlink connection for nftables;
// unlock releases the lock.
func openGuard() (c *nftables.Conn, table *nftables.Table, unlock func(), err error) {
	if unlock, err = guardLock(); err != nil {
		return nil, nil, nil, fmt.Errorf("host guard: lock: %w", err)
	}
	if c, err = nftables.New(); err != nil {
		unlock()
		return nil, nil, nil, fmt.Errorf("nftables: %w", err)
	}
	return c, &nftables.Table{Family: nftables.TableFamilyINet, Name: GuardTable}, unlock, nil
}

// EnsureGuard writes the host guard's table unless it is current; the
// labs' published-port rules stay as they are.
func EnsureGuard() (changed bool, err error) {
	c, table, unlock, err := openGuard()
	if err != nil {
		return false, err
	}
	defer unlock()
	input, forward := guardRules()
	if guardExists(c) && tableCurrent(c, table, map[string]int{"input": len(input), "forward": len(forward)}, guardTag) {
		return false, nil
	}
	c.AddTable(table)
	c.AddChain(&nftables.Chain{Name: "published", Table: table})
	c.AddChain(&nftables.Chain{Name: "bridges", Table: table})
	c.AddChain(&nftables.Chain{Name: hostLinksInput, Table: table})
	c.AddChain(&nftables.Chain{Name: hostLinksForward, Table: table})
	policy := nftables.ChainPolicyAccept
	prio := nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 10)
	in := c.AddChain(&nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: prio, Policy: &policy})
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: prio, Policy: &policy})
	c.FlushChain(in)
	c.FlushChain(fwd)
	for _, e := range input {
		c.AddRule(&nftables.Rule{Table: table, Chain: in, Exprs: e, UserData: guardTag})
	}
	for _, e := range forward {
		c.AddRule(&nftables.Rule{Table: table, Chain: fwd, Exprs: e, UserData: guardTag})
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write nftables table inet %s: %w", GuardTable, err)
	}
	return true, nil
}

func guardExists(c *nftables.Conn) bool {
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false
	}
	for _, t := range tables {
		if t.Name == GuardTable {
			return true
		}
	}
	return false
}

// guardOwner is the tag of a lab's published-port rules.
func guardOwner(lab string) []byte { return []byte("lab:" + lab + "\n") }

// publishedRules accept a published port from each of the lab's
// interfaces. Pure.
func publishedRules(ifaces []string, proto string, port int) [][]expr.Any {
	var out [][]expr.Any
	for _, i := range ifaces {
		out = append(out, join(matchIfname(expr.MetaKeyIIFNAME, i), matchProto(proto), matchPorts(port, port, false), []expr.Any{accept()}))
	}
	return out
}

// bridgeRules drop what the host would route from a lab bridge to
// another interface, or into it from another. Pure.
func bridgeRules(bridge string) [][]expr.Any {
	drop := []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}
	other := func(key expr.MetaKey) []expr.Any {
		return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(bridge)}}
	}
	return [][]expr.Any{
		join(matchIfname(expr.MetaKeyIIFNAME, bridge), other(expr.MetaKeyOIFNAME), drop),
		join(matchIfname(expr.MetaKeyOIFNAME, bridge), other(expr.MetaKeyIIFNAME), drop),
	}
}

// EnsureGuardBridge keeps the host from routing into or out of a lab's
// bridge, unless the rules are there.
func EnsureGuardBridge(lab, bridge string) (changed bool, err error) {
	return ensureLabRules(lab, "bridges", "bridge "+bridge, bridgeRules(bridge))
}

// EnsureGuardPublished lets the lab's own nodes reach a port it
// publishes on the host (from the lab's interfaces ifaces: its bridges
// and relay ends), unless the rules are there.
func EnsureGuardPublished(lab string, ifaces []string, proto string, port int) (changed bool, err error) {
	if len(ifaces) == 0 {
		return false, nil
	}
	return ensureLabRules(lab, "published", fmt.Sprintf("%s/%d %s", proto, port, strings.Join(ifaces, ",")), publishedRules(ifaces, proto, port))
}

// ensureLabRules adds a lab's rules to a regular chain of the guard,
// tagged with the lab and what, unless they are there.
func ensureLabRules(lab, chainName, what string, rules [][]expr.Any) (changed bool, err error) {
	if _, err := EnsureGuard(); err != nil {
		return false, err
	}
	c, table, unlock, err := openGuard()
	if err != nil {
		return false, err
	}
	defer unlock()
	chain := &nftables.Chain{Name: chainName, Table: table}
	tag := append(guardOwner(lab), what...)
	have, err := c.GetRules(table, chain)
	if err != nil {
		return false, fmt.Errorf("list nftables chain inet %s %s: %w", GuardTable, chainName, err)
	}
	n := 0
	for _, r := range have {
		if bytes.Equal(r.UserData, tag) {
			n++
		}
	}
	if n == len(rules) {
		return false, nil
	}
	for _, e := range rules {
		c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: e, UserData: tag})
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("write the host guard's rules for lab %s (%s): %w", lab, what, err)
	}
	return true, nil
}

// removeLabRules deletes the lab's rules tagged with what from the
// guard's chains, and returns how many there were.
func removeLabRules(lab, what string, chains ...string) (int, error) {
	c, table, unlock, err := openGuard()
	if err != nil {
		return 0, err
	}
	defer unlock()
	if !guardExists(c) {
		return 0, nil
	}
	tag := append(guardOwner(lab), what...)
	n, err := delRules(c, table, chains, func(data []byte) bool { return bytes.Equal(data, tag) })
	if err != nil {
		return 0, fmt.Errorf("remove lab %s's rules for %s: %w", lab, what, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := c.Flush(); err != nil {
		return 0, fmt.Errorf("remove lab %s's rules for %s from nftables table inet %s: %w", lab, what, GuardTable, err)
	}
	return n, nil
}

// delRules queues the deletion of the rules of the guard's chains whose
// user data match says is theirs (Flush carries it out), and returns how
// many.
func delRules(c *nftables.Conn, table *nftables.Table, chains []string, match func(userData []byte) bool) (int, error) {
	n := 0
	for _, chain := range chains {
		have, err := c.GetRules(table, &nftables.Chain{Name: chain, Table: table})
		if err != nil {
			return n, fmt.Errorf("list nftables chain inet %s %s: %w", GuardTable, chain, err)
		}
		for _, r := range have {
			if match(r.UserData) {
				if err := c.DelRule(r); err != nil {
					return n, fmt.Errorf("remove a rule from nftables chain inet %s %s: %w", GuardTable, chain, err)
				}
				n++
			}
		}
	}
	return n, nil
}

// RemoveGuard deletes the lab's published-port rules from the host
// guard, and the guard's table when no netlab interface is left on the
// host. It returns how many rules it removed.
func RemoveGuard(lab string) (int, error) {
	c, table, unlock, err := openGuard()
	if err != nil {
		return 0, err
	}
	defer unlock()
	if !guardExists(c) {
		return 0, nil
	}
	owner := guardOwner(lab)
	n, err := delRules(c, table, []string{"published", "bridges", hostLinksInput, hostLinksForward},
		func(data []byte) bool { return bytes.HasPrefix(data, owner) })
	if err != nil {
		return n, fmt.Errorf("remove lab %s's rules: %w", lab, err)
	}
	if !netlabInterfacesLeft() {
		c.DelTable(table) // not counted: no lab's own
	}
	if err := c.Flush(); err != nil {
		return 0, fmt.Errorf("remove lab %s's rules from nftables table inet %s: %w", lab, GuardTable, err)
	}
	return n, nil
}

// netlabInterfacesLeft tells whether any host interface has a name of
// netlab's (another lab's, or one an up is making), or is a lab's host
// link (named by its lab file, its alias names the lab).
func netlabInterfacesLeft() bool {
	links, err := nldump.Retry(netlink.LinkList)
	if err != nil {
		return true // unsure: keep the guard
	}
	for _, l := range links {
		name := l.Attrs().Name
		if naming.LabOf(l.Attrs().Alias) != "" {
			return true
		}
		for _, p := range guardPrefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}
