package steps

import (
	"fmt"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// addr: an interface's addresses, and the interface up. With DHCP its
// IPv4 address is left to the node's DHCP client.
var addr = Kind{
	Describe: func(s *planner.Step) string {
		a := s.Addr
		as := strs(a.Addrs)
		if a.SLAAC {
			as = append(as, "(IPv6 by SLAAC)")
		}
		switch {
		case a.DHCP && len(as) == 0:
			return fmt.Sprintf("bring %s up (IPv4 by DHCP)", a.Iface)
		case a.DHCP:
			return fmt.Sprintf("set %s %s, up (IPv4 by DHCP)", a.Iface, some(as, " "))
		case len(as) == 0:
			return fmt.Sprintf("bring %s up (no address)", a.Iface)
		}
		return fmt.Sprintf("set %s %s, up", a.Iface, some(as, " "))
	},
	Do: inNode(func(_ *Executor, ns *wire.NS, s *planner.Step) (bool, error) {
		return wire.EnsureAddrs(ns, s.Addr)
	}),
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{Addr: s.Addr}
	},
}
