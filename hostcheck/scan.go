package hostcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netlab/netlab/spec"
)

// Need is a kernel feature a node uses, and where the lab asks for it.
type Need struct {
	Node    string  `json:"node"`
	Feature Feature `json:"feature"`
	// Where is the place: "lab file: nodes.r1.interfaces.eth0.10", or a
	// script's host path and line ("/labs/x/r1.startup:3").
	Where string `json:"where"`
	// Command is the command that uses it, when a command does.
	Command string `json:"command,omitempty"`
}

func (n Need) String() string {
	if n.Command == "" {
		return fmt.Sprintf("%s (%s)", n.Feature, n.Where)
	}
	return fmt.Sprintf("%s (%s: %s)", n.Feature, n.Where, n.Command)
}

// ReadFile reads a file of the host; Scan takes one so that tests give it
// files of their own.
type ReadFile func(path string) ([]byte, error)

// Scan lists the kernel features each node of the lab uses, from its file
// (networks, VLANs, macvlan, NAT and filters, sysctls) and from the
// commands it runs, following the scripts they run (sh FILE, . FILE) into
// the host folders the node mounts: a converted Kathará lab's
// NODE.startup. Scripts it cannot read are skipped. The list is sorted by
// node, in the order found, one entry per node and feature.
func Scan(l *spec.Lab, read ReadFile) []Need {
	var out []Need
	for _, n := range l.SortedNodes() {
		s := scanner{node: n, dir: filepath.Dir(l.File), read: read, seen: map[string]bool{}, has: map[Feature]bool{}}
		s.labFile(l)
		s.text("lab file: nodes."+n.Name+".command", strings.Join(n.Command, " "), 0)
		out = append(out, s.needs...)
	}
	return out
}

type scanner struct {
	node  *spec.Node
	dir   string // the lab file's folder
	read  ReadFile
	seen  map[string]bool // scripts read
	has   map[Feature]bool
	needs []Need
}

func (s *scanner) need(f Feature, where, cmd string) {
	if s.has[f] {
		return
	}
	s.has[f] = true
	s.needs = append(s.needs, Need{Node: s.node.Name, Feature: f, Where: where, Command: cmd})
}

// labFile adds what the node's keys ask of the kernel.
func (s *scanner) labFile(l *spec.Lab) {
	n := s.node
	at := "lab file: nodes." + n.Name
	for _, i := range n.SortedInterfaces() {
		where := at + ".interfaces." + i.Name
		if i.Parent == "" {
			s.need(Veth, where, "")
		}
		net := l.Networks[i.Network]
		switch {
		case net != nil && net.Macvlan != "":
			s.need(Macvlan, where, "")
		case net != nil && net.External == "":
			s.need(Bridge, where, "")
		}
		if i.Parent != "" {
			s.need(VLAN, where, "")
		}
		if i.VID != 0 || len(i.Tagged) > 0 {
			s.need(BridgeVLAN, where, "")
		}
		if net != nil && net.Isolated {
			s.need(NFTables, where, "")
		}
	}
	if n.NAT != nil {
		s.need(NFTables, at+".nat", "")
	}
	if n.Firewall != nil {
		s.need(NFTables, at+".firewall", "")
	}
	for _, k := range slices.Sorted(maps.Keys(n.Sysctls)) {
		if strings.HasPrefix(k, "net.mpls.") {
			s.need(MPLS, at+".sysctls."+k, "")
		}
	}
}

// maxDepth bounds how deep scripts that run scripts are followed.
const maxDepth = 4

// text scans a script's text; where names it, line numbers are added for
// files.
func (s *scanner) text(where, text string, depth int) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		at := where
		if depth > 0 {
			at = fmt.Sprintf("%s:%d", where, ln)
		}
		for _, cmd := range commands(line) {
			s.command(at, cmd, depth)
		}
	}
}

// commands splits a shell line into its simple commands (at ; && || | &
// and backquotes), each as words with quotes removed. A coarse split is
// enough: the words looked for are command names and their first
// arguments.
func commands(line string) [][]string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	repl := strings.NewReplacer("&&", ";", "||", ";", "|", ";", "&", ";", "`", ";", "$(", ";", ")", ";", "(", ";", "{", ";", "}", ";")
	var out [][]string
	for _, part := range strings.Split(repl.Replace(line), ";") {
		words := strings.Fields(strings.NewReplacer(`"`, "", `'`, "").Replace(part))
		for len(words) > 0 && (words[0] == "sudo" || words[0] == "exec" || words[0] == "then" || words[0] == "do" ||
			words[0] == "else" || words[0] == "!" || strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "=")) {
			words = words[1:]
		}
		if len(words) > 0 {
			out = append(out, words)
		}
	}
	return out
}

// command adds what one simple command asks of the kernel.
func (s *scanner) command(at string, w []string, depth int) {
	cmd := strings.Join(w, " ")
	name := filepath.Base(w[0])
	args := w[1:]
	for _, a := range args {
		if strings.HasPrefix(a, "net.mpls.") {
			s.need(MPLS, at, cmd)
		}
	}
	switch name {
	case "ip":
		if f, ok := ipFeature(args); ok {
			s.need(f, at, cmd)
		}
	case "brctl":
		s.need(Bridge, at, cmd)
	case "bridge":
		if len(args) > 0 && args[0] == "vlan" {
			s.need(BridgeVLAN, at, cmd)
		}
	case "vconfig":
		s.need(VLAN, at, cmd)
	case "ifenslave":
		s.need(Bonding, at, cmd)
	case "wg", "wg-quick":
		s.need(Wireguard, at, cmd)
	case "openvpn":
		s.need(Tun, at, cmd)
	case "nft", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore":
		// Debian's iptables is iptables-nft: its rules are nf_tables'.
		s.need(NFTables, at, cmd)
	case "tc":
		if f, ok := tcFeature(args); ok {
			s.need(f, at, cmd)
		}
	case "modprobe", "insmod":
		for _, a := range args {
			if f, ok := modules[strings.TrimSuffix(filepath.Base(a), ".ko")]; ok && !slices.Contains(args, "-r") {
				s.need(f, at, cmd)
			}
		}
	case "sh", "bash", "dash", ".", "source":
		s.script(at, args, depth)
	}
}

// script follows a script a command runs, when the node mounts it from
// the host.
func (s *scanner) script(at string, args []string, depth int) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if args[i] == "-c" {
			if i+1 < len(args) { // sh -c CMD, as an argv without quotes
				s.command(at, args[i+1:], depth)
			}
			return
		}
		i++
	}
	if i == len(args) || depth >= maxDepth {
		return
	}
	host, ok := s.hostPath(args[i])
	if !ok || s.seen[host] {
		return
	}
	s.seen[host] = true
	data, err := s.read(host)
	if err != nil || bytes.IndexByte(data, 0) >= 0 {
		return
	}
	s.text(host, string(data), depth+1)
}

// hostPath maps a path inside the node to the host file a bind mount of
// the node puts there.
func (s *scanner) hostPath(p string) (string, bool) {
	if !filepath.IsAbs(p) {
		return "", false
	}
	p = filepath.Clean(p)
	best, host := "", ""
	for _, v := range s.node.Volumes {
		src, rest, _ := strings.Cut(v, ":")
		dst, _, _ := strings.Cut(rest, ":")
		switch {
		case strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") || src == ".":
			src = filepath.Join(s.dir, src)
		case !filepath.IsAbs(src):
			continue // a named volume
		}
		dst = filepath.Clean(dst)
		if (p == dst || strings.HasPrefix(p, dst+"/")) && len(dst) > len(best) {
			best, host = dst, filepath.Join(src, strings.TrimPrefix(p, dst))
		}
	}
	return host, best != ""
}

// linkKinds maps ip link add's type to a feature.
var linkKinds = map[string]Feature{
	"veth": Veth, "bridge": Bridge, "vlan": VLAN, "macvlan": Macvlan, "macvtap": Macvlan, "ipvlan": Ipvlan,
	"vxlan": Vxlan, "dummy": Dummy, "ipip": IPIP, "gre": GRE, "ip6gre": GRE, "gretap": GRETap, "ip6gretap": GRETap,
	"sit": SIT, "bond": Bonding, "vrf": VRF, "wireguard": Wireguard, "ifb": IFB,
}

// tunnelModes maps ip tunnel add's mode to a feature.
var tunnelModes = map[string]Feature{"ipip": IPIP, "gre": GRE, "sit": SIT, "ip6gre": GRE, "isatap": SIT}

// modules maps a module's name to a feature.
var modules = map[string]Feature{
	"8021q": VLAN, "bonding": Bonding, "ipip": IPIP, "ip_gre": GRE, "gre": GRE, "sit": SIT, "vrf": VRF,
	"wireguard": Wireguard, "dummy": Dummy, "ifb": IFB, "sch_netem": Netem, "sch_tbf": TBF, "sch_htb": HTB,
	"vxlan": Vxlan, "macvlan": Macvlan, "ipvlan": Ipvlan, "bridge": Bridge, "veth": Veth, "nf_tables": NFTables,
	"mpls_router": MPLS, "mpls_iptunnel": MPLS, "tun": Tun,
}

// ipFeature reads an ip(8) command: link add ... type KIND, tunnel add
// ... mode MODE (ipip when none), tuntap add, link set ... type bridge
// vlan_filtering 1. Objects and verbs may be abbreviated, as ip allows.
func ipFeature(args []string) (Feature, bool) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-n" || args[0] == "-netns" || args[0] == "-b" || args[0] == "-batch" {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) < 2 {
		return "", false
	}
	obj, verb, rest := args[0], args[1], args[2:]
	add := abbrev(verb, "add", 1) || abbrev(verb, "replace", 3)
	switch {
	case abbrev(obj, "link", 1) && add:
		if kind, ok := after(rest, "type"); ok {
			f, known := linkKinds[kind]
			return f, known
		}
	case abbrev(obj, "link", 1) && abbrev(verb, "set", 1):
		if v, ok := after(rest, "vlan_filtering"); ok && v == "1" {
			return BridgeVLAN, true
		}
	case abbrev(obj, "tunnel", 2) && add:
		mode, ok := after(rest, "mode")
		if !ok {
			return IPIP, true
		}
		f, known := tunnelModes[mode]
		return f, known
	case (obj == "tuntap" || obj == "tap") && add:
		return Tun, true
	}
	return "", false
}

// tcFeature reads tc qdisc add|replace|change ... KIND.
func tcFeature(args []string) (Feature, bool) {
	if len(args) < 2 || !abbrev(args[0], "qdisc", 1) || !(abbrev(args[1], "add", 1) || abbrev(args[1], "replace", 1) || abbrev(args[1], "change", 1)) {
		return "", false
	}
	for _, a := range args[2:] {
		switch a {
		case "netem":
			return Netem, true
		case "tbf":
			return TBF, true
		case "htb":
			return HTB, true
		}
	}
	return "", false
}

// abbrev tells whether w is word or a prefix of it of at least min bytes.
func abbrev(w, word string, min int) bool {
	return len(w) >= min && strings.HasPrefix(word, w)
}

// after returns the word after key.
func after(words []string, key string) (string, bool) {
	for i, w := range words {
		if w == key && i+1 < len(words) {
			return words[i+1], true
		}
	}
	return "", false
}
