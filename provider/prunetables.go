package provider

import (
	"context"
	"fmt"

	"github.com/google/nftables"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// PruneTables removes the nftables tables netlab owns that the plan no
// longer has: a node's NAT table (inet netlab) or filter table (inet
// netlab-filter) when the file dropped its nat or firewall, and the lab's
// isolation table when no network is isolated any more. It returns what
// it removed, as "node a: NAT table". Nodes for which fresh is true are
// not looked at: their namespaces are new (up started them), so they hold
// no table of before.
func PruneTables(ctx context.Context, d Runtime, p *planner.Plan, fresh func(node string) bool) ([]string, error) {
	var removed []string
	if p.Step("isolate") == nil {
		if ok, err := RemoveIsolation(p.Lab); err != nil {
			return removed, err
		} else if ok {
			removed = append(removed, "isolation table bridge "+naming.IsolationTable(p.Lab))
		}
	}
	list, err := d.List(ctx, p.Lab)
	if err != nil {
		return removed, err
	}
	for _, c := range list {
		if p.Step("create:"+c.Node) == nil || fresh(c.Node) {
			continue // not in the file (up removed it already), or new
		}
		unwanted := map[string]string{}
		if p.Step("nat:"+c.Node) == nil {
			unwanted[naming.NATTable] = "NAT table"
		}
		if p.Step("firewall:"+c.Node) == nil {
			unwanted[naming.FirewallTable] = "firewall table"
		}
		if len(unwanted) == 0 {
			continue
		}
		n, err := d.Inspect(ctx, c.ID)
		if err != nil || n.Pid == 0 {
			continue
		}
		ns, err := OpenNS(n.Pid)
		if err != nil {
			return removed, err
		}
		what, err := dropTables(ns, unwanted)
		ns.Close()
		for _, w := range what {
			removed = append(removed, "node "+c.Node+": "+w)
		}
		if err != nil {
			return removed, fmt.Errorf("node %s: %w", c.Node, err)
		}
	}
	return removed, nil
}

// dropTables deletes the inet tables named in unwanted from a namespace.
func dropTables(ns *NS, unwanted map[string]string) ([]string, error) {
	if len(unwanted) == 0 {
		return nil, nil
	}
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	var what []string
	for _, t := range tables {
		if desc, ok := unwanted[t.Name]; ok {
			c.DelTable(t)
			what = append(what, desc+" inet "+t.Name)
		}
	}
	if len(what) == 0 {
		return nil, nil
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("delete nftables tables: %w", err)
	}
	return what, nil
}
