package spec

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SSHEntry publishes one ssh entry per group of nodes, as ETH's
// mini-Internet gives each student group: a jump node ssh-GROUP on a host
// port, whose root account takes the keys in KEYS/GROUP.pub and reaches
// only that group's nodes, by name (goto NODE), over a management network
// of the group's own that nothing else is on.
type SSHEntry struct {
	// Port is the first host port: group G listens on Port+G when every
	// group is a number (the AS, as the mini-Internet does), else on
	// Port+1, Port+2, ... in the groups' order.
	Port int `yaml:"port" json:"port"`
	// Keys is a folder beside the lab file holding GROUP.pub for every
	// group: the public keys of that group's students, one per line.
	Keys string `yaml:"keys" json:"keys"`
	// Subnet gives each group's management network a /24 of it, in the
	// groups' order (default DefaultSSHSubnet).
	Subnet string `yaml:"subnet,omitempty" json:"subnet,omitempty"`
	// Address is the host address the entries listen on (default
	// 127.0.0.1, as for publish: 0.0.0.0 opens them beyond the host).
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
	// Image runs the jump nodes (default netlab/host): it needs dropbear
	// and netlab-start's ssh-entry role.
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
}

// DefaultSSHSubnet holds the groups' management networks.
const DefaultSSHSubnet = "100.64.0.0/16"

// SSHInterface is the interface a group's nodes have on its management
// network; SSHListenEnv tells the node's start command (netlab-start) the
// address its ssh server listens on, SSHNodesEnv the jump node the
// group's nodes ("name=address ...").
const (
	SSHInterface = "ssh"
	SSHListenEnv = "NETLAB_SSH_LISTEN"
	SSHNodesEnv  = "NETLAB_SSH_NODES"
	SSHKeysPath  = "/etc/netlab/ssh/authorized_keys"
)

// SSHEntryNode is the name of group g's jump node and of its management
// network.
func SSHEntryNode(g string) string { return "ssh-" + g }

// expandSSHEntry adds what lab.SSHEntry asks for to the lab, before the
// defaults and checks (which then check the added nodes and networks as
// any others): per group a network ssh-G, isolated but for ssh from the
// jump node, the jump node on it publishing its port, and an interface
// ssh on every node of the group with the address its ssh server listens
// on. Problems point at ssh_entry.
func expandSSHEntry(lab *Lab, ps *problems) {
	e := lab.SSHEntry
	if e == nil {
		return
	}
	groups := map[string][]string{} // group -> its nodes' names, sorted
	for _, name := range slices.Sorted(maps.Keys(lab.Nodes)) {
		if n := lab.Nodes[name]; n != nil && n.Group != "" {
			groups[n.Group] = append(groups[n.Group], name)
		}
	}
	if len(groups) == 0 {
		ps.add("ssh_entry", "no node has a group: ssh entries are per group (group: AS on each node)")
		return
	}
	names := slices.SortedFunc(maps.Keys(groups), CompareGroups)
	subnet := e.Subnet
	if subnet == "" {
		subnet = DefaultSSHSubnet
	}
	base, err := netip.ParsePrefix(subnet)
	if err != nil || !base.Addr().Is4() || base.Bits() > 24 || base.Masked() != base {
		ps.add("ssh_entry.subnet", "%q is not an IPv4 prefix of /24 or wider like %s", subnet, DefaultSSHSubnet)
		return
	}
	if room := 1 << (24 - base.Bits()); len(names) > room {
		ps.add("ssh_entry.subnet", "%s holds %d management networks (a /24 each), the lab has %d groups: give a wider one", subnet, room, len(names))
		return
	}
	for _, nw := range lab.Networks {
		if p, err := netip.ParsePrefix(nw.Subnet); err == nil && p.Overlaps(base) {
			ps.add("ssh_entry.subnet", "%s overlaps network subnet %s: give ssh_entry.subnet a prefix the lab does not use", subnet, nw.Subnet)
			return
		}
	}
	numeric := true
	for _, g := range names {
		if _, err := strconv.Atoi(g); err != nil {
			numeric = false
		}
	}
	if lab.Networks == nil {
		lab.Networks = NetworkMap{}
	}
	for i, g := range names {
		port := e.Port + i + 1
		if numeric {
			n, _ := strconv.Atoi(g)
			port = e.Port + n
		}
		members := groups[g]
		if !sshGroupFits(lab, ps, g, port, members) {
			continue
		}
		net4 := base.Addr().As4()
		net4[1] += byte(i >> 8)
		net4[2] += byte(i)
		prefix := netip.PrefixFrom(netip.AddrFrom4(net4), 24)
		addr := func(k int) netip.Addr { a := prefix.Addr().As4(); a[3] = byte(k); return netip.AddrFrom4(a) }
		jump := SSHEntryNode(g)
		lab.Networks[jump] = &Network{Subnet: prefix.String(), Isolated: true, RoutersToo: true,
			Allow: []*Allow{{From: jump, Proto: "tcp", Port: "22"}}}
		var list []string
		for k, name := range members {
			n, a := lab.Nodes[name], addr(k+2)
			if n.Interfaces == nil {
				n.Interfaces = InterfaceMap{}
			}
			n.Interfaces[SSHInterface] = &Interface{Network: jump, Address: StringList{netip.PrefixFrom(a, 24).String()}}
			n.Env = withEntry(n.Env, SSHListenEnv, a.String())
			// Its ssh server binds the address before netlab wires it.
			n.Sysctls = withEntry(n.Sysctls, "net.ipv4.ip_nonlocal_bind", "1")
			list = append(list, name+"="+a.String())
		}
		image := e.Image
		if image == "" {
			image = "netlab/host"
		}
		lab.Nodes[jump] = &Node{
			Image:      image,
			Command:    StringList{"/usr/local/sbin/netlab-start", "ssh-entry"},
			Env:        map[string]string{SSHNodesEnv: strings.Join(list, " ")},
			Volumes:    []string{sshKeysFile(e.Keys, g) + ":" + SSHKeysPath + ":ro"},
			Interfaces: InterfaceMap{"eth0": {Network: jump, Address: StringList{netip.PrefixFrom(addr(1), 24).String()}}},
			Publish:    []string{publishAt(e.Address, port)},
		}
		if file := sshKeysFile(e.Keys, g); lab.File != "" || filepath.IsAbs(file) {
			if !filepath.IsAbs(file) {
				file = filepath.Join(filepath.Dir(lab.File), file)
			}
			if _, err := os.Stat(file); err != nil {
				ps.add("ssh_entry.keys", "group %s has no keys: put its students' public keys in %s", g, file)
			}
		}
	}
}

// sshGroupFits reports whether group g can have an entry: its names are
// free, its port a port and its nodes fit a /24.
func sshGroupFits(lab *Lab, ps *problems, g string, port int, members []string) bool {
	jump := SSHEntryNode(g)
	switch {
	case !labelRe.MatchString(jump):
		ps.add("ssh_entry", "group %q cannot name a node (%s): groups with ssh entries are letters, digits and '-'", g, jump)
	case lab.Nodes[jump] != nil:
		ps.add("ssh_entry", "node %s exists: it would be group %s's jump node; rename it", jump, g)
	case lab.Networks[jump] != nil:
		ps.add("ssh_entry", "network %s exists: it would be group %s's management network; rename it", jump, g)
	case port < 1 || port > 65535:
		ps.add("ssh_entry.port", "group %s's entry would listen on port %d: give a port from which every group's fits below 65536", g, port)
	case len(members) > 252:
		ps.add("ssh_entry", "group %s has %d nodes: a management /24 holds 252", g, len(members))
	default:
		for _, name := range members {
			if _, ok := lab.Nodes[name].Interfaces[SSHInterface]; ok {
				ps.add(path("nodes", name, "interfaces", SSHInterface), "node %s of group %s has an interface %s: ssh_entry adds one of that name; rename it", name, g, SSHInterface)
				return false
			}
		}
		return true
	}
	return false
}

// publishAt is the jump node's publish entry: host port to its port 22.
func publishAt(address string, port int) string {
	if address == "" {
		return fmt.Sprintf("%d:22", port)
	}
	if a, err := netip.ParseAddr(address); err == nil && a.Is6() {
		address = "[" + address + "]"
	}
	return fmt.Sprintf("%s:%d:22", address, port)
}

// sshKeysFile is group g's keys file as a bind mount's source: relative
// ones start with ./ or ../, so that they are taken beside the lab file.
func sshKeysFile(keys, g string) string {
	src := filepath.Join(keys, g+".pub")
	if !filepath.IsAbs(src) && !strings.HasPrefix(src, "../") {
		src = "./" + src
	}
	return src
}

func withEntry(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
