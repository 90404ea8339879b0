package spec

import (
	"net/netip"
	"slices"
	"strings"
)

// HostAddr is the address /etc/hosts gives the node in every node of the
// lab: its first IPv4 address (interfaces in name order), else its first
// IPv6 address; invalid if it has none.
func (n *Node) HostAddr() netip.Addr {
	var addr netip.Addr
	var from string // the interface addr is from
	for name, i := range n.Interfaces {
		for _, p := range i.Addrs {
			a := p.Addr()
			better := !addr.IsValid() || (a.Is4() && !addr.Is4()) || (a.Is4() == addr.Is4() && name < from)
			if better {
				addr, from = a, name
			}
			if a.Is4() {
				break // the interface's first IPv4 address, or IPv6 if it has none
			}
		}
	}
	return addr
}

// HostNames are the names /etc/hosts gives the node: its name, its host
// name and the host name's first label.
func (n *Node) HostNames() []string {
	names := []string{n.Name}
	for _, name := range []string{n.Hostname, strings.Split(n.Hostname, ".")[0]} {
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// LookupHost resolves a host as the lab's /etc/hosts does (a node's name,
// host name or its first label), or parses it as an address. The node is
// nil for an address.
func (l *Lab) LookupHost(host string) (netip.Addr, *Node, bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, nil, true
	}
	n := l.Nodes[host]
	if n == nil {
		for _, o := range l.Nodes { // the first in name order that has the name
			if (n == nil || o.Name < n.Name) && slices.Contains(o.HostNames(), host) {
				n = o
			}
		}
	}
	if n == nil {
		return netip.Addr{}, nil, false
	}
	a := n.HostAddr()
	return a, n, a.IsValid()
}
