package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
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
		changed, err := hostproc.EnsureForwarder(e.plan.Lab, s.Node, s.Publish, e.bins.Netlab)
		if err != nil || s.Publish.HostIP.IsLoopback() {
			return changed, err // a node never reaches the host's loopback
		}
		// The lab's own nodes reach the port through the host guard.
		allowed, err := wire.EnsureGuardPublished(e.plan.Lab, guardedIfaces(e.plan), s.Publish.Proto, s.Publish.HostPort)
		return changed || allowed, err
	},
	Owns: func(s *planner.Step) converge.Owned {
		p := s.Publish
		return converge.Owned{Helpers: []string{naming.PublishPidName(s.Node, p.HostIP.String(), p.HostPort, p.Proto)}}
	},
}

// guardedIfaces are the lab's host interfaces the host guard watches:
// its bridges and relay ends, where its nodes' packets reach the host.
func guardedIfaces(p *planner.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		switch {
		case s.Kind == planner.KindBridge && !s.Bridge.External:
			out = append(out, s.Bridge.Name)
		case s.Kind == planner.KindRelay:
			out = append(out, s.Relay.Host[0].Name, s.Relay.Host[1].Name)
		}
	}
	return out
}
