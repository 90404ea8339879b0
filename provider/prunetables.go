package provider

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// PruneTables removes the nftables tables netlab owns that the plan no
// longer has: a node's NAT table (inet netlab) or filter table (inet
// netlab-filter) when the file dropped its nat or firewall, and the lab's
// isolation table when no network is isolated any more. It returns what
// it removed, as "node a: NAT table". Nodes for which fresh is true are
// not looked at: their namespaces are new (up started them), so they hold
// no table of before.
func PruneTables(ctx context.Context, d engine.Runtime, p *planner.Plan, fresh func(node string) bool) ([]string, error) {
	var removed []string
	if p.Step("isolate") == nil {
		if ok, err := wire.RemoveIsolation(p.Lab); err != nil {
			return removed, err
		} else if ok {
			removed = append(removed, "isolation table bridge "+naming.IsolationTable(p.Lab))
		}
	}
	// The file's nodes, not a list of the lab's containers: the nodes no
	// longer in the file went with their containers (up removed them),
	// and after an up that started every node there is nothing to look
	// at, where listing a lab of 1,000 nodes takes a noticeable time.
	for _, s := range p.Steps {
		if s.Kind != planner.KindCreate || fresh(s.Node) {
			continue
		}
		node := s.Node
		unwanted := map[string]string{}
		if p.Step("nat:"+node) == nil {
			unwanted[naming.NATTable] = "NAT table"
		}
		if p.Step("firewall:"+node) == nil {
			unwanted[naming.FirewallTable] = "firewall table"
		}
		if len(unwanted) == 0 {
			continue
		}
		n, err := d.Inspect(ctx, naming.Container(p.Lab, node)) // a runtime takes a container's name for its id
		if err != nil || n.Pid == 0 {
			continue // not made (a failed up), or not running
		}
		ns, err := wire.OpenNS(n.Pid)
		if err != nil {
			return removed, err
		}
		what, err := wire.DropTables(ns, unwanted)
		ns.Close()
		for _, w := range what {
			removed = append(removed, "node "+node+": "+w)
		}
		if err != nil {
			return removed, fmt.Errorf("node %s: %w", node, err)
		}
	}
	return removed, nil
}
