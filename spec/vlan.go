package spec

import (
	"slices"
	"strconv"
	"strings"
)

// vlanIface checks an interface's VLAN keys and recognises sub-interfaces:
// an interface named PARENT.N, on no network and ending no link, whose
// PARENT is an interface of the node, is on VLAN N of PARENT's network.
func (c *checker) vlanIface(n *Node, i *Interface, at string) {
	if parent, vid, ok := strings.Cut(i.Name, "."); ok && i.Network == "" && n.Interfaces[parent] != nil {
		p := n.Interfaces[parent]
		id, err := strconv.Atoi(vid)
		switch {
		case err != nil || id < 1 || id > 4094:
			c.ps.addKey(at, "%s names VLAN %q of %s: a VLAN id is 1 to 4094", i.Name, vid, parent)
		case p.Network == "":
			c.ps.addKey(at, "%s is a VLAN sub-interface of %s, which is on no network: put %s on a network", i.Name, parent, parent)
		case p.VLAN != 0:
			c.ps.addKey(at, "%s is a VLAN sub-interface of %s, an access port of VLAN %d that carries no tags: remove vlan from %s, or the sub-interface", i.Name, parent, p.VLAN, parent)
		case c.lab.Networks[p.Network] != nil && c.lab.Networks[p.Network].Macvlan != "":
			c.ps.addKey(at, "VLANs are not offered on macvlan network %s", p.Network)
		case i.VLAN != 0 || len(i.Trunk) > 0:
			c.ps.add(path(at, "vlan"), "a sub-interface is on its VLAN already: vlan and trunk belong on %s", parent)
		default:
			i.Network, i.Parent, i.VID = p.Network, parent, id
		}
		return
	}
	if i.VLAN == 0 && len(i.Trunk) == 0 {
		return
	}
	switch {
	case i.Network == "":
		c.ps.add(path(at, "vlan"), "vlan and trunk are for a port on a network; %s:%s is on none", n.Name, i.Name)
	case i.VLAN != 0 && len(i.Trunk) > 0:
		c.ps.add(path(at, "trunk"), "a port is an access port (vlan) or a trunk, not both")
	case c.lab.Networks[i.Network] != nil && c.lab.Networks[i.Network].Macvlan != "":
		c.ps.add(path(at, "vlan"), "VLANs are not offered on macvlan network %s", i.Network)
	default:
		i.VID = i.VLAN
	}
}

// vlans completes each trunk port's tagged VLANs with its sub-interfaces'.
// Runs after every interface is checked.
func (c *checker) vlans() {
	for _, n := range c.lab.SortedNodes() {
		for _, i := range n.SortedInterfaces() {
			i.Tagged = append(i.Tagged[:0], i.Trunk...)
		}
		for _, i := range n.SortedInterfaces() {
			if p := n.Interfaces[i.Parent]; i.Parent != "" && p != nil && !slices.Contains(p.Tagged, i.VID) {
				p.Tagged = append(p.Tagged, i.VID)
			}
		}
		for _, i := range n.Interfaces {
			slices.Sort(i.Tagged)
			i.Tagged = slices.Compact(i.Tagged)
		}
	}
}

// UsesVLANs tells whether any interface of the lab is on a VLAN or trunk.
func (lab *Lab) UsesVLANs() bool {
	for _, n := range lab.Nodes {
		for _, i := range n.Interfaces {
			if i.VID != 0 || len(i.Tagged) > 0 {
				return true
			}
		}
	}
	return false
}

// NetworkVLANs lists the VLANs used on each network that has any, sorted,
// in one pass over the lab's interfaces.
func (lab *Lab) NetworkVLANs() map[string][]int {
	out := map[string][]int{}
	for _, n := range lab.Nodes {
		for _, i := range n.Interfaces {
			if i.Network == "" || (i.VID == 0 && len(i.Tagged) == 0) {
				continue
			}
			if i.VID != 0 {
				out[i.Network] = append(out[i.Network], i.VID)
			}
			out[i.Network] = append(out[i.Network], i.Tagged...)
		}
	}
	for name, vids := range out {
		slices.Sort(vids)
		out[name] = slices.Compact(vids)
	}
	return out
}
