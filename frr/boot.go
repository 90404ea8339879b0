package frr

import (
	"strings"
)

// BootDir holds, in a node, each daemon's part of the frr.conf that Conf
// wrote (BootDir/zebra.conf, BootDir/bgpd.conf, ...). netlab/router's FRR
// start gives each daemon its part (-f) when every daemon it starts has
// one, so that the daemons read their configuration as they start and no
// vtysh -b follows: vtysh's own start (it builds every daemon's command
// tree) was 0.17-0.20 CPU-s of a router's 0.62 (docs/internet.md). A
// daemon that watchfrr restarts later, or an image without this, gets the
// whole frr.conf through vtysh as before; frr.conf stays what vtysh shows
// and writes.
const BootDir = "/etc/frr/netlab-boot"

// bootAlways are the daemons that run whatever the configuration says;
// each gets a part, if only the global lines.
var bootAlways = []string{"zebra", "staticd"}

// Boot splits conf, as Conf writes it, into each daemon's part (daemon ->
// text), as vtysh -b would send it: the global lines to every daemon, an
// interface's lines to the daemon each is for, a router section to its
// daemon, and the BGP policy's route-maps, prefix-lists and community
// lists to bgpd, the one daemon that uses them in what Conf writes (vtysh
// would also give zebra and ospfd the route-maps without their BGP lines,
// unused). It returns nil when a line is not one it knows
// where to send (text that a lab wrote itself, say): vtysh -b then applies
// frr.conf as before.
func Boot(conf string) map[string]string {
	on := daemonsOn(conf)
	for _, d := range bootAlways {
		on[d] = true
	}
	var global []string
	parts := map[string][]string{}
	var block []string // the current section's lines, its header first
	var to []string    // the daemons the current section goes to
	var iface bool     // the current section is an interface's
	ifaceLines := map[string][]string{}
	flush := func() {
		switch {
		case iface:
			for d, lines := range ifaceLines {
				parts[d] = append(append(append(parts[d], block[0]), lines...), "exit")
			}
		case block != nil:
			for _, d := range to {
				parts[d] = append(append(parts[d], block...), "exit")
			}
		}
		block, to, iface = nil, nil, false
		clear(ifaceLines)
	}
	for _, line := range strings.Split(conf, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "!"):
			continue
		case line != trimmed: // inside a section
			if block == nil {
				return nil
			}
			if !iface {
				block = append(block, line)
				continue
			}
			d := ifaceDaemon(trimmed)
			if d == "" || !on[d] {
				return nil
			}
			ifaceLines[d] = append(ifaceLines[d], line)
		case trimmed == "exit":
			if block == nil {
				return nil
			}
			flush()
		case block != nil:
			// A section ends at its exit; route-maps follow one another
			// without a blank line in between, each ended by its own exit.
			return nil
		case strings.HasPrefix(line, "frr defaults ") || strings.HasPrefix(line, "log "):
			if len(parts) > 0 {
				return nil // global lines come first
			}
			global = append(global, line)
		case line == "service integrated-vtysh-config" || line == "line vty" || strings.HasPrefix(line, "hostname "):
			// vtysh's own (the daemons take the node's name, as with vtysh -b), and the default
		case strings.HasPrefix(line, "interface "):
			block, iface = []string{line}, true
		case strings.HasPrefix(line, "route-map ") && on["bgpd"]:
			block, to = []string{line}, []string{"bgpd"}
		case (strings.HasPrefix(line, "ip prefix-list ") || strings.HasPrefix(line, "ipv6 prefix-list ") ||
			strings.HasPrefix(line, "bgp community-list ")) && on["bgpd"]:
			parts["bgpd"] = append(parts["bgpd"], line)
		default:
			d := sectionDaemon(line)
			if d == "" || !on[d] {
				return nil
			}
			block, to = []string{line}, []string{d}
		}
	}
	if block != nil {
		return nil
	}
	out := map[string]string{}
	for d := range on {
		lines := append(append([]string{"! " + d + "'s part of frr.conf, written by netlab: see " + ConfPath + "."}, global...), parts[d]...)
		out[d] = strings.Join(lines, "\n") + "\n"
	}
	return out
}

// sectionDaemon is the daemon a section's header (router bgp 1) is for.
func sectionDaemon(line string) string {
	for prefix, d := range daemonOf {
		if line == prefix || strings.HasPrefix(line, prefix+" ") {
			return d
		}
	}
	return ""
}

// ifaceDaemon is the daemon an interface's line is for.
func ifaceDaemon(line string) string {
	switch {
	case strings.HasPrefix(line, "ip address ") || strings.HasPrefix(line, "ipv6 address "):
		return "zebra"
	case strings.HasPrefix(line, "ip ospf "):
		return "ospfd"
	case strings.HasPrefix(line, "ipv6 ospf6 "):
		return "ospf6d"
	}
	return ""
}
