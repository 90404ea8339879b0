package steps

import (
	"fmt"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// ndpProxy: proxy neighbour entries: the addresses a node answers
// neighbour solicitations for on an interface.
var ndpProxy = Kind{
	Describe: func(s *planner.Step) string {
		return fmt.Sprintf("answer neighbour solicitations for %s on %s (proxy NDP)", some(strs(s.NDPProxy.Addrs), " "), s.NDPProxy.Iface)
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		return wire.EnsureNDPProxy(ns, s.NDPProxy)
	}),
}
