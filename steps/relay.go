package steps

import (
	"context"
	"fmt"
	"os"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// relay: an impaired link: each node end a veth pair into the host, and a
// netlab relay process between the two host ends that delays, drops and
// paces frames.
var relay = Kind{
	Describe: func(s *planner.Step) string {
		r := s.Relay
		return fmt.Sprintf("create veths %s:%s <-> %s <~> %s <-> %s:%s, relay with %s", r.Ends[0].Node, r.Ends[0].Name,
			r.Host[0].Name, r.Host[1].Name, r.Ends[1].Node, r.Ends[1].Name, r.Spec)
	},
	Do: func(_ context.Context, e *Executor, s *planner.Step) (bool, error) {
		if e.onHost && e.placed[s.Relay.Ends[0].Node].Host != e.placed[s.Relay.Ends[1].Node].Host {
			return e.relayAcross(s)
		}
		a, b, err := e.pair(s.Relay.Ends[0].Node, s.Relay.Ends[1].Node)
		if err != nil {
			return false, err
		}
		guarded, err := wire.EnsureGuard() // the host's guard against the lab's nodes
		if err != nil {
			return guarded, err
		}
		changed, err := hostproc.EnsureRelay(e.host, e.plan.Lab, s.Relay, [2]*wire.NS{a, b}, e.bins.Netlab)
		return changed || guarded, err
	},
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{HostLinks: []string{s.Relay.Host[0].Alias, s.Relay.Host[1].Alias}, Helpers: []string{s.Relay.PidName}}
	},
}

// relayAcross is an agent's side of an impaired link between nodes on two
// hosts. The relay runs on the first node's host: that node's end a veth
// pair into the host, the other host end a tunnel end sending from that
// node's address (wire.EnsureHostTunnel), the relay between them. The
// second node's end is the same tunnel end as when the link is not
// impaired, so impairing or clearing a link across hosts changes nothing
// on the second host.
func (e *Executor) relayAcross(s *planner.Step) (bool, error) {
	r := s.Relay
	a, z := r.Ends[0], r.Ends[1]
	pa, pz := e.placed[a.Node], e.placed[z.Node]
	if _, ok := e.nodes[z.Node]; ok { // its end as when the link is plain
		return e.tunnel(&planner.Veth{A: a, B: z}, pa, pz)
	}
	vni := e.vnis[a.Node+":"+a.Name]
	n, ok := e.nodes[a.Node]
	if !ok {
		return false, fmt.Errorf("step %s: neither %s nor %s runs on this host", s.ID, a.Node, z.Node)
	}
	guarded, err := wire.EnsureGuard()
	if err != nil {
		return guarded, err
	}
	removed, err := wire.RemoveTunnelEnd(n.ns, a) // its VNI is the host tunnel's now
	if err != nil {
		return guarded, err
	}
	guarded = guarded || removed
	tunnel, mtu, err := wire.EnsureHostTunnel(e.host, n.ns, r.Host[1], wire.Tunnel{Lab: e.plan.Lab, VNI: vni, Under: pa.Iface, Local: pa.Addr, Remote: pz.Addr, Peer: z})
	if err != nil {
		return tunnel || guarded, err
	}
	end, host := a, r.Host[0]
	if end.MTU == 0 { // the node's end carries no more than the tunnel does
		end.MTU, host.MTU = mtu, mtu
	}
	veth, err := wire.EnsureHostVeth(e.host, host, end, n.ns, 0)
	if err != nil {
		return tunnel || veth || guarded, err
	}
	for _, h := range r.Host { // frames only: no addresses, no IPv6 chatter
		os.WriteFile("/proc/sys/net/ipv6/conf/"+h.Name+"/disable_ipv6", []byte("1"), 0o644)
	}
	started, err := hostproc.StartRelay(e.plan.Lab, r, e.bins.Netlab, tunnel || veth)
	if err == nil && (tunnel || veth) {
		e.note("%s:%s <-> %s:%s crosses hosts: impaired by a relay on %s between %s:%s and a VXLAN tunnel (VNI %d) to %s on %s, MTU %d",
			a.Node, a.Name, z.Node, z.Name, pa.Host, a.Node, a.Name, vni, z.Node, pz.Host, mtu)
	}
	changed, err := withEnd(tunnel || veth || guarded || started, err, n.ns, end)
	return changed, err
}
