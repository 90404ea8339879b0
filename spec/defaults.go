package spec

import (
	"maps"
	"slices"
	"sort"
)

// applyDefaults fills in what the file leaves out: names, defaults, hostnames.
func applyDefaults(lab *Lab) {
	for name, nw := range lab.Networks {
		if nw == nil {
			lab.Networks[name] = &Network{}
		}
	}
	for name, n := range lab.Nodes {
		n.Name = name
		n.inherited = map[string]bool{}
		if n.Image == "" {
			n.Image = lab.Defaults.Image
			n.inherited["image"] = n.Image != ""
		}
		if n.Hostname == "" {
			n.Hostname = name
		}
		d := &lab.Defaults
		n.Command = orList(n, "command", n.Command, d.Command)
		n.Volumes = orList(n, "volumes", n.Volumes, d.Volumes)
		n.CapAdd = orList(n, "cap_add", n.CapAdd, d.CapAdd)
		n.CapDrop = orList(n, "cap_drop", n.CapDrop, d.CapDrop)
		n.DNS = orList(n, "dns", n.DNS, d.DNS)
		n.DNSSearch = orList(n, "dns_search", n.DNSSearch, d.DNSSearch)
		if n.DependsOn == nil { // not on itself: defaults.depends_on [dns] leaves dns alone
			for _, dep := range d.DependsOn {
				if dep != name {
					n.DependsOn = append(n.DependsOn, dep)
				}
			}
			n.inherited["depends_on"] = d.DependsOn != nil
		}
		switch {
		case n.ForwardKey != nil:
			n.Forward = *n.ForwardKey
		case d.Forward != nil:
			n.Forward = *d.Forward
		}
		for k := range lab.Defaults.Env {
			if _, own := n.Env[k]; !own {
				n.inherited["env."+k] = true
			}
		}
		for k := range lab.Defaults.Sysctls {
			if _, own := n.Sysctls[k]; !own {
				n.inherited["sysctls."+k] = true
			}
		}
		n.Resources = mergeResources(n, d.Resources, n.Resources)
		n.Env = mergeMap(lab.Defaults.Env, n.Env)
		n.Sysctls = mergeMap(lab.Defaults.Sysctls, n.Sysctls)
		for ifname, i := range n.Interfaces {
			if i == nil {
				i = &Interface{}
				n.Interfaces[ifname] = i
			}
			i.Name = ifname
			if nw := lab.Networks[i.Network]; i.MTU == 0 && nw != nil {
				i.MTU = nw.MTU
			}
		}
	}
	for i, l := range lab.Links {
		l.Index = i
		l.HostEnd = -1
	}
}

// orList is a node's list, or the default's when the node gives none (an
// empty list written in the file is a value: it replaces the default).
func orList[S ~[]string](n *Node, key string, own, def S) S {
	if own == nil && def != nil {
		n.inherited[key] = true
		return def
	}
	return own
}

// at is the path of a node's key: under defaults when the node took the
// default's value, so that a problem in it is reported once, where it is.
func (n *Node) at(key string, more ...any) string {
	if k, ok := firstString(more); ok && n.inherited[key+"."+k] || n.inherited[key] {
		return path(append([]any{"defaults", key}, more...)...)
	}
	return path(append([]any{"nodes", n.Name, key}, more...)...)
}

func firstString(l []any) (string, bool) {
	if len(l) == 0 {
		return "", false
	}
	s, ok := l[0].(string)
	return s, ok
}

func mergeMap(base, over map[string]string) map[string]string {
	if len(base) == 0 {
		return over
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// SortedNodes returns the lab's nodes ordered by name.
func (l *Lab) SortedNodes() []*Node {
	out := make([]*Node, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SortedNetworks returns the lab's network names in order.
func (l *Lab) SortedNetworks() []string { return slices.Sorted(maps.Keys(l.Networks)) }

// SortedInterfaces returns the node's interfaces ordered by name.
func (n *Node) SortedInterfaces() []*Interface {
	out := make([]*Interface, 0, len(n.Interfaces))
	for _, name := range slices.Sorted(maps.Keys(n.Interfaces)) {
		out = append(out, n.Interfaces[name])
	}
	return out
}
