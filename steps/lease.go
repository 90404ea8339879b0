package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// leaseTimeout is how long up waits for a node's lease from netlab's DHCP
// server: its init asks once the node is released, and the server runs.
const leaseTimeout = 30 * time.Second

// lease: up waits until a node's DHCP client holds its IPv4 lease.
var lease = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("wait for %s's DHCP lease on network %s", s.Lease.Iface, s.Lease.Network)
	},
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		n, err := e.node(s.Node)
		if err != nil {
			return false, err
		}
		waited, err := wire.WaitLease(ctx, n.ns, s.Lease.Iface, leaseTimeout)
		if err != nil {
			return waited, fmt.Errorf("%w: see netlab logs %s %s (its DHCP client) and %s (the server's log)", err, e.plan.Lab, s.Node,
				filepath.Join(engine.RunDir, e.plan.Lab, "dhcpd-"+s.Lease.Network+".log"))
		}
		return waited, nil
	},
}
