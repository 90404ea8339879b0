package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
)

// dhcpd: netlab's DHCP server of a network, a helper process on the host
// in a namespace of its own (with a port into the network's bridge) or in
// a node's.
var dhcpd = Kind{
	Describe: func(s *planner.Step) string {
		d := s.DHCPD
		out := fmt.Sprintf("DHCP server %s on bridge %s", d.Addr, d.Bridge)
		if d.Node != "" {
			out = fmt.Sprintf("DHCP server in %s on %s (%s)", d.Node, d.Iface, d.Addr)
		}
		out += fmt.Sprintf(": %s-%s, lease %s", d.First, d.Last, shortDuration(d.Lease))
		if d.Router.IsValid() {
			out += ", gateway " + d.Router.String()
		}
		if len(d.DNS) > 0 {
			out += ", dns"
		}
		for _, a := range d.DNS {
			out += " " + a.String()
		}
		return out
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		var node *engine.Node
		if s.DHCPD.Node != "" {
			n, err := e.node(s.DHCPD.Node)
			if err != nil {
				return false, err
			}
			node = &n.Node
		}
		return hostproc.EnsureDHCPServer(e.host, e.plan.Lab, s.DHCPD, node, e.bins.Netlab)
	},
	Owns: func(s *planner.Step) converge.Owned {
		o := converge.Owned{Helpers: []string{s.DHCPD.PidName}}
		if s.DHCPD.Port != nil {
			o.HostLinks = []string{s.DHCPD.Port.Alias}
		}
		return o
	},
}

// shortDuration writes 1h for 1h0m0s and 10m for 10m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
