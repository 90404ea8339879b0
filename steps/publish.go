package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// publish: a host port forwarded into the node by a netlab forwarder
// process.
var publish = Kind{
	Describe: func(s *planner.Step) string {
		p := s.Publish
		d := fmt.Sprintf("publish %s:%d/%s -> port %d", p.HostIP, p.HostPort, p.Proto, p.NodePort)
		for i, a := range p.Dial {
			if i == maxDescribed {
				d += fmt.Sprintf(", else %d more", len(p.Dial)-i)
				break
			}
			d += map[bool]string{true: " at ", false: ", else "}[i == 0] + a.String()
		}
		return d
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		return hostproc.EnsureForwarder(e.plan.Lab, s.Node, s.Publish, e.bins.Netlab)
	},
	Owns: func(s *planner.Step) converge.Owned {
		p := s.Publish
		return converge.Owned{Helpers: []string{naming.PublishPidName(s.Node, p.HostIP.String(), p.HostPort, p.Proto)}}
	},
}
