package spec

import (
	"fmt"
	"strings"
)

// Names in a lab file become kernel names (interfaces, bridges), path
// components (/run/netlab/LAB/NODE, pid files), container names and labels,
// and /etc/hosts entries. Each has a grammar checked here, strict enough
// that no name can be a path ("/", ".."), an option ("-x"), a kernel
// template ("e%d"), or shadow another: lab and node names are host name
// labels (labelRe), network names networkRe, interface names
// ifNameProblem's.

// ifNameProblem says what is wrong with an interface name, or "": the
// kernel's own rule (dev_valid_name: not empty, ".", "..", no '/', ':' or
// white space, shorter than IFNAMSIZ), and netlab's on top of it: letters,
// digits, '_', '.' and '-' only, not starting with '-' or '.' (no '%',
// which the kernel takes as a template to number, as in "eth%d"), and not
// "all", "default" (names of /proc/sys/net/*/conf/ entries for every
// interface) or "lo" (every node has its loopback).
func ifNameProblem(name string) string {
	switch {
	case len(name) > MaxIfName:
		return fmt.Sprintf("interface name %q is %d bytes; the kernel takes at most %d", name, len(name), MaxIfName)
	case name == "" || name == "." || name == "..":
		return fmt.Sprintf("interface name %q is not allowed", name)
	case name == "lo":
		return "interface name \"lo\" is taken: every node has its loopback"
	case name == "all" || name == "default":
		return fmt.Sprintf("interface name %q is not allowed: /proc/sys/net uses it for every interface", name)
	case strings.ContainsAny(name, "/: \t\n\v\f\r"):
		return fmt.Sprintf("interface name %q must not contain '/', ':' or white space", name)
	case !ifNameChars(name):
		return fmt.Sprintf("interface name %q must hold only letters, digits, '_', '.' and '-', and start with a letter, digit or '_'", name)
	}
	return ""
}

func ifNameChars(name string) bool {
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '_':
		case (b == '.' || b == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// nodeNamesDiffer refuses two nodes whose names differ only in case: host
// names are case-insensitive, so /etc/hosts and DNS would give both names
// one address, and a file system that ignores case one directory.
func (c *checker) nodeNamesDiffer() {
	c.lowerNames = make(map[string]*Node, len(c.lab.Nodes))
	for _, n := range c.lab.SortedNodes() {
		low := strings.ToLower(n.Name)
		if o, dup := c.lowerNames[low]; dup {
			c.ps.addKey(path("nodes", n.Name), "node name %q differs from node %q only in case: host names ignore case; rename one", n.Name, o.Name)
			continue
		}
		c.lowerNames[low] = n
	}
}

// hostnameShadows refuses a hostname (or its first label, which /etc/hosts
// also gives the node) that is another node's name: in every node's
// /etc/hosts the name would lead to two addresses, the first one winning.
func (c *checker) hostnameShadows(n *Node) {
	if n.Hostname == n.Name {
		return
	}
	for _, name := range []string{n.Hostname, strings.Split(n.Hostname, ".")[0]} {
		if o := c.lowerNames[strings.ToLower(strings.TrimSuffix(name, "."))]; o != nil && o != n {
			c.ps.add(path("nodes", n.Name, "hostname"), "host name %q is node %s's name: /etc/hosts would give it two addresses; choose another", n.Hostname, o.Name)
			return
		}
	}
}
