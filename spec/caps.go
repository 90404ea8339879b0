package spec

import (
	"slices"
	"strings"
)

// DefaultCaps are the capabilities every node gets on top of the
// container engine's own default set: a student configures addresses,
// routes, firewalls and DHCP, and captures packets, inside the node. They
// reach only the node's own namespaces.
var DefaultCaps = []string{"NET_ADMIN", "NET_RAW"}

// Caps is what a node adds to and drops from the engine's default
// capability set, names without the CAP_ prefix, sorted.
type Caps struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// linuxCaps are the capability names Linux knows (capability.h, 6.x).
var linuxCaps = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE",
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER",
	"KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
	"NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP",
	"SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE",
	"SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
	"WAKE_ALARM",
}

// CapName normalises a capability name: upper case, no CAP_ prefix. ok is
// false for a name Linux does not know ("ALL" is known).
func CapName(s string) (name string, ok bool) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
	return name, name == "ALL" || slices.Contains(linuxCaps, name)
}

// caps works out a node's capabilities: DefaultCaps plus cap_add minus
// cap_drop, as compose's cap_add and cap_drop do on the engine's set.
// cap_drop: [ALL] drops the defaults too, leaving only cap_add.
func (c *checker) caps(n *Node) {
	add := c.capList(n, "cap_add", n.CapAdd)
	drop := c.capList(n, "cap_drop", n.CapDrop)
	for k, a := range add {
		if slices.Contains(drop, a) && a != "ALL" {
			c.ps.add(n.at("cap_add", k), "%s is both added and dropped: keep it in one of cap_add and cap_drop", a)
		}
	}
	var caps Caps
	if !slices.Contains(drop, "ALL") {
		caps.Add = append(caps.Add, DefaultCaps...)
	}
	for _, a := range add {
		if !slices.Contains(caps.Add, a) {
			caps.Add = append(caps.Add, a)
		}
	}
	caps.Add = slices.DeleteFunc(caps.Add, func(a string) bool { return slices.Contains(drop, a) })
	if slices.Contains(caps.Add, "ALL") {
		caps.Add = []string{"ALL"}
	}
	caps.Drop = drop
	if slices.Contains(drop, "ALL") {
		caps.Drop = []string{"ALL"}
	}
	slices.Sort(caps.Add)
	n.Caps = caps
}

func (c *checker) capList(n *Node, key string, list []string) []string {
	var out []string
	for k, s := range list {
		name, ok := CapName(s)
		if !ok {
			c.ps.add(n.at(key, k), "%q is not a Linux capability (such as NET_ADMIN, SYS_ADMIN, SYS_PTRACE, or ALL)", s)
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
