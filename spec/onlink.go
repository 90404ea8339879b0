package spec

import (
	"net/netip"
	"slices"
)

// OnLink indexes a node's interface addresses, so that next hops are
// looked up without going through every interface: a router at the centre
// of a star has thousands of interfaces and a route per spoke.
type OnLink struct {
	owner map[netip.Addr]string     // an address -> the first interface (name order) that has it
	nets  map[netip.Prefix][]string // an interface's masked prefix -> the interfaces on it, in name order
	bits  [2][]int                  // the prefix lengths in nets, IPv4 then IPv6
}

// NewOnLink indexes the addresses n's interfaces have now.
func NewOnLink(n *Node) *OnLink {
	o := &OnLink{owner: map[netip.Addr]string{}, nets: map[netip.Prefix][]string{}}
	for _, i := range n.SortedInterfaces() {
		for _, p := range i.Addrs {
			if _, ok := o.owner[p.Addr()]; !ok {
				o.owner[p.Addr()] = i.Name
			}
			m := p.Masked()
			if on := o.nets[m]; len(on) == 0 || on[len(on)-1] != i.Name {
				o.nets[m] = append(on, i.Name)
			}
			f := family(p.Addr())
			if !slices.Contains(o.bits[f], p.Bits()) {
				o.bits[f] = append(o.bits[f], p.Bits())
			}
		}
	}
	return o
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// Owner is the interface that has a as its address, "" if none.
func (o *OnLink) Owner(a netip.Addr) string { return o.owner[a] }

// Ifaces lists the interfaces (only dev, if given) with a prefix that holds
// a, each once, in name order.
func (o *OnLink) Ifaces(a netip.Addr, dev string) []string {
	var out []string
	for _, b := range o.bits[family(a)] {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		for _, name := range o.nets[p] {
			if (dev == "" || name == dev) && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}
