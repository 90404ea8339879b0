package checks

import (
	"context"
	"net/netip"
	"time"

	"github.com/netlab/netlab/spec"
)

// A network probe of a node that runs on another host of a cluster is
// made there, by the agent of the node's host (engine/kube/agent), in the
// node's namespace as NetProber makes it here: RemoteProbe is what of the
// check it needs, as the agent receives it.

// RemoteNodes are Nodes some of which run on other hosts: ProbeRemote
// makes a network probe of such a node through its host's agent, and
// says false for a node of this host.
type RemoteNodes interface {
	ProbeRemote(ctx context.Context, c *spec.Check) (Outcome, bool)
}

// RemoteProbe is a network probe (not run, signature or matrix) as an
// agent receives it.
type RemoteProbe struct {
	Probe    string         `json:"probe"`
	Node     string         `json:"node"`
	Addr     netip.Addr     `json:"addr,omitzero"`
	Count    int            `json:"count,omitempty"`
	Limit    time.Duration  `json:"limit"`
	Hops     [][]netip.Addr `json:"hops,omitempty"`
	Port     int            `json:"port,omitempty"`
	DNS      string         `json:"dns,omitempty"`
	Type     string         `json:"type,omitempty"`
	Answers  []string       `json:"answers,omitempty"`
	HTTP     string         `json:"http,omitempty"`
	Status   int            `json:"status,omitempty"`
	Contains string         `json:"contains,omitempty"`
	Prefix   netip.Prefix   `json:"prefix,omitzero"`
	Nexthop  netip.Addr     `json:"nexthop,omitzero"`
	Address  string         `json:"address,omitempty"`
}

// RemoteProbeOf is the network probe of a resolved check.
func RemoteProbeOf(c *spec.Check) RemoteProbe {
	return RemoteProbe{Probe: c.Probe, Node: c.Node, Addr: c.Addr, Count: c.Count, Limit: c.Limit, Hops: c.Hops, Port: c.Port,
		DNS: c.DNS, Type: c.Type, Answers: c.Answers, HTTP: c.HTTP, Status: c.Status, Contains: c.Contains,
		Prefix: c.Prefix, Nexthop: c.Nexthop, Address: c.Address}
}

// Check is the probe as a resolved check, for NetProber.Probe.
func (r RemoteProbe) Check() *spec.Check {
	return &spec.Check{Probe: r.Probe, Node: r.Node, Addr: r.Addr, Count: r.Count, Limit: r.Limit, Hops: r.Hops, Port: r.Port,
		DNS: r.DNS, Type: r.Type, Answers: r.Answers, HTTP: r.HTTP, Status: r.Status, Contains: r.Contains,
		Prefix: r.Prefix, Nexthop: r.Nexthop, Address: r.Address}
}
