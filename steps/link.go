package steps

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// link: a veth pair between two nodes; between nodes on different hosts
// (a cluster's), a VXLAN tunnel (tunnel). A relay left from when the link
// was impaired is removed first. Its ends go with their nodes.
var link = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("create veth %s:%s <-> %s:%s", s.Veth.A.Node, s.Veth.A.Name, s.Veth.B.Node, s.Veth.B.Name)
	},
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		removed, err := hostproc.RemoveRelay(e.host, e.plan.Lab, s.Veth)
		if err != nil {
			return false, err
		}
		pa, pb, err := e.places(ctx, s.Veth)
		if err != nil {
			return removed, err
		}
		if pa.Host != pb.Host {
			changed, err := e.tunnel(s.Veth, pa, pb)
			return changed || removed, err
		}
		a, b, err := e.pair(s.Veth.A.Node, s.Veth.B.Node)
		if err != nil {
			return removed, err
		}
		changed, err := wire.EnsureLink(e.host, s.Veth, a, b)
		if err != nil {
			return changed || removed, err
		}
		changed, err = withEnd(changed || removed, nil, a, s.Veth.A)
		return withEnd(changed, err, b, s.Veth.B)
	},
}

// places is where the link's nodes run; the zero Place for both on a
// runtime whose nodes all share this host. An agent has them from the
// request.
func (e *Executor) places(ctx context.Context, v *planner.Veth) (a, b engine.Place, err error) {
	if e.onHost {
		return e.placed[v.A.Node], e.placed[v.B.Node], nil
	}
	placed, ok := e.rt.(engine.Placed)
	if !ok {
		return a, b, nil
	}
	for _, x := range []struct {
		node string
		to   *engine.Place
	}{{v.A.Node, &a}, {v.B.Node, &b}} {
		n, err := e.node(x.node)
		if err != nil {
			return a, b, err
		}
		if *x.to, err = placed.Place(ctx, n.ID); err != nil {
			return a, b, fmt.Errorf("link %s:%s <-> %s:%s: %w", v.A.Node, v.A.Name, v.B.Node, v.B.Name, err)
		}
	}
	return a, b, nil
}

// tunnel makes a link between nodes on two hosts a VXLAN device in each
// node, over the nodes' own addresses between the hosts, and notes the MTU
// it has once it makes one. An agent makes the ends of its host's nodes.
func (e *Executor) tunnel(v *planner.Veth, pa, pb engine.Place) (bool, error) {
	vni := e.vnis[v.A.Node+":"+v.A.Name]
	changed := false
	for _, end := range []struct {
		self, peer planner.VethEnd
		here, far  engine.Place
	}{{v.A, v.B, pa, pb}, {v.B, v.A, pb, pa}} {
		n, err := e.node(end.self.Node)
		if err != nil && e.onHost {
			continue // the other host's end, its agent's
		}
		if err != nil {
			return changed, err
		}
		made, mtu, err := wire.EnsureTunnelEnd(n.ns, end.self, wire.Tunnel{
			Lab: e.plan.Lab, VNI: vni, Under: end.here.Iface, Local: end.here.Addr, Remote: end.far.Addr, Peer: end.peer})
		if err == nil {
			made, err = withEnd(made, nil, n.ns, end.self)
		}
		if err != nil {
			return changed, err
		}
		if made {
			e.note("%s:%s is a VXLAN tunnel (VNI %d, UDP %d) to %s:%s, from host %s to %s over %s, MTU %d (VXLAN takes %d bytes of each packet)",
				end.self.Node, end.self.Name, vni, wire.VXLANPort, end.peer.Node, end.peer.Name, end.here.Host, end.far.Host, end.here.Iface, mtu, wire.TunnelOverhead(end.far.Addr))
		}
		changed = changed || made
	}
	return changed, nil
}
