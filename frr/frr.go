// Package frr writes FRR's configuration for a node from the lab file's
// routing key: the integrated frr.conf and the daemons file that says which
// of FRR's daemons run. It is pure: the planner puts the files into the
// node's container, and netlab/router's start command starts FRR with them.
package frr

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netlab/netlab/spec"
)

// Paths of FRR's files inside a node.
const (
	ConfPath    = "/etc/frr/frr.conf"
	DaemonsPath = "/etc/frr/daemons"
	VtyshPath   = "/etc/frr/vtysh.conf"
)

// Files returns the FRR files of node n (path -> content), or nil if the
// node has neither routing nor config.frr.
func Files(n *spec.Node) map[string]string {
	var conf string
	own := false
	switch {
	case n.Config != nil && n.Config.FRRText != "":
		conf = n.Config.FRRText
	case n.Routing != nil && (n.Routing.OSPF != nil || n.Routing.OSPF6 != nil || n.Routing.RIP != nil || n.Routing.RIPng != nil || n.Routing.BGP != nil):
		conf, own = Conf(n), true
	default:
		return nil
	}
	files := map[string]string{
		ConfPath:    conf,
		DaemonsPath: Daemons(conf),
		VtyshPath:   "service integrated-vtysh-config\n",
	}
	if own { // a lab's own text goes through vtysh whole
		if parts := Boot(conf); parts != nil {
			for d, part := range parts {
				files[BootDir+"/"+d+".conf"] = part
			}
			// What the parts were cut from: the start uses them only while
			// frr.conf is still this (not saved anew from vtysh).
			files[BootDir+"/frr.conf"] = conf
		}
	}
	return files
}

// Conf renders the integrated frr.conf of a node with routing.
func Conf(n *spec.Node) string {
	r := n.Routing
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("! FRR configuration of %s, written by netlab from the lab file's routing key.", n.Name)
	w("! Change it live with vtysh; netlab writes it again when the node is created.")
	w("frr defaults traditional")
	w("hostname %s", n.Name)
	w("log file /var/log/frr/frr.log informational")
	w("service integrated-vtysh-config")
	w("!")

	loopback(w, r)
	// Interface settings: OSPF areas and costs, passive interfaces.
	for _, i := range n.SortedInterfaces() {
		var lines []string
		if o := r.OSPF; o != nil {
			if oi, ok := ospfIface(o, i.Name); ok {
				area, _ := spec.ParseArea(firstNonEmpty(oi.Area, o.Area))
				lines = append(lines, " ip ospf area "+area)
				if i.Link != nil { // two routers on a veth pair: no DR election, adjacency at once
					lines = append(lines, " ip ospf network point-to-point")
				}
				if oi.Cost > 0 {
					lines = append(lines, fmt.Sprintf(" ip ospf cost %d", oi.Cost))
				}
				if slices.Contains(o.Passive, i.Name) {
					lines = append(lines, " ip ospf passive")
				}
			}
		}
		if o := r.OSPF6; o != nil {
			if oi, ok := ospfIface(o, i.Name); ok {
				area, _ := spec.ParseArea(firstNonEmpty(oi.Area, o.Area))
				lines = append(lines, " ipv6 ospf6 area "+area)
				if i.Link != nil {
					lines = append(lines, " ipv6 ospf6 network point-to-point")
				}
				if oi.Cost > 0 {
					lines = append(lines, fmt.Sprintf(" ipv6 ospf6 cost %d", oi.Cost))
				}
				if slices.Contains(o.Passive, i.Name) {
					lines = append(lines, " ipv6 ospf6 passive")
				}
			}
		}
		if len(lines) > 0 {
			w("interface %s", i.Name)
			for _, l := range lines {
				w("%s", l)
			}
			w("exit")
			w("!")
		}
	}

	if o := r.OSPF; o != nil {
		ospfSection(w, "ospf", r.ID, o)
	}
	if o := r.OSPF6; o != nil {
		ospfSection(w, "ospf6", r.ID, o)
	}
	if p := r.RIP; p != nil {
		ripSection(w, "router rip", []string{" version 2"}, p)
	}
	if p := r.RIPng; p != nil {
		ripSection(w, "router ripng", nil, p)
	}
	if g := r.BGP; g != nil {
		w("router bgp %d", g.AS)
		if r.ID.IsValid() {
			w(" bgp router-id %s", r.ID)
		}
		// A lab announces what it says: no policy is needed to exchange routes.
		w(" no bgp ebgp-requires-policy")
		w(" no bgp network import-check")
		for _, nb := range g.Neighbors {
			w(" neighbor %s remote-as %d", nb.Address, nb.AS)
			// Retry a session every 5 s, not 120: peers start at about the same time.
			w(" neighbor %s timers connect 5", nb.Address)
			if nb.Description != "" {
				w(" neighbor %s description %s", nb.Address, nb.Description)
			}
			if nb.UpdateSource != "" {
				w(" neighbor %s update-source %s", nb.Address, nb.UpdateSource)
			}
			if nb.Relation == spec.RelationRouteServer {
				// A route server does not put its own AS first on the path.
				w(" no neighbor %s enforce-first-as", nb.Address)
			}
		}
		for _, fam := range []struct {
			name string
			v6   bool
		}{{"ipv4 unicast", false}, {"ipv6 unicast", true}} {
			var lines []string
			for _, p := range g.Prefixes {
				if p.Addr().Is6() == fam.v6 {
					lines = append(lines, "  network "+p.String())
				}
			}
			for _, s := range g.Redistribute {
				lines = append(lines, "  redistribute "+s)
			}
			for _, nb := range g.Neighbors {
				if nb.Addr.Is6() != fam.v6 {
					continue
				}
				if fam.v6 {
					lines = append(lines, "  neighbor "+nb.Address+" activate")
				}
				if nb.NextHopSelf {
					lines = append(lines, "  neighbor "+nb.Address+" next-hop-self")
				}
				lines = append(lines, relationLines(nb)...)
			}
			if len(lines) == 0 || (fam.v6 && !hasV6(g)) {
				continue
			}
			w(" address-family %s", fam.name)
			for _, l := range lines {
				w("%s", l)
			}
			w(" exit-address-family")
		}
		w("exit")
		w("!")
		policies(w, g)
	}
	w("line vty")
	w("!")
	return b.String()
}

// ripSection writes a RIP or RIPng section: its router line, the lines
// that only one of them has (RIP's version), then the interfaces, the
// passive ones and what is redistributed, which both write alike.
func ripSection(w func(string, ...any), router string, head []string, p *spec.RIP) {
	w("%s", router)
	for _, l := range head {
		w("%s", l)
	}
	for _, name := range p.Interfaces {
		w(" network %s", name)
	}
	for _, name := range p.Passive {
		w(" passive-interface %s", name)
	}
	for _, s := range p.Redistribute {
		w(" redistribute %s", s)
	}
	w("exit")
	w("!")
}

// ospfSection writes a "router ospf" or "router ospf6" section (daemon
// "ospf" or "ospf6"): the router ID, when the node has one, and what it
// redistributes.
func ospfSection(w func(string, ...any), daemon string, id netip.Addr, o *spec.OSPF) {
	w("router %s", daemon)
	if id.IsValid() {
		w(" %s router-id %s", daemon, id)
	}
	for _, s := range o.Redistribute {
		w(" redistribute %s", s)
	}
	w("exit")
	w("!")
}

func hasV6(g *spec.BGP) bool {
	for _, nb := range g.Neighbors {
		if nb.Addr.Is6() {
			return true
		}
	}
	for _, p := range g.Prefixes {
		if p.Addr().Is6() {
			return true
		}
	}
	return false
}

func ospfIface(o *spec.OSPF, name string) (spec.OSPFInterface, bool) {
	for _, i := range o.Interfaces {
		if i.Name == name {
			return i, true
		}
	}
	return spec.OSPFInterface{}, false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// daemonOf names the daemon each "router X" section needs.
var daemonOf = map[string]string{
	"router bgp": "bgpd", "router ospf6": "ospf6d", "router ospf": "ospfd",
	"router ripng": "ripngd", "router rip": "ripd", "router isis": "isisd",
	"router eigrp": "eigrpd", "router babel": "babeld", "router pim": "pimd",
	"router openfabric": "fabricd", "mpls ldp": "ldpd",
}

var allDaemons = []string{"bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd",
	"nhrpd", "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd"}

// SettleMark is the file that netlab/router's FRR start makes while it
// starts the daemons and removes once it has applied frr.conf to all of
// them together (its frr-settle).
const SettleMark = "/run/netlab-frr-settling"

// settleHook ends the daemons file, which FRR's scripts source: while
// SettleMark exists, a daemon that starts is not sent frr.conf on its own
// (vtysh -b -d DAEMON, one vtysh reading the whole file per daemon: 0.14
// of a router's 0.9 CPU-s of start-up scripts, measured at 10 ASes) since
// it is sent once to all of them together right after. Without the mark (another image, a daemon
// that watchfrr restarts later) FRR's own vtysh_b runs.
const settleHook = "# netlab/router applies frr.conf once to every daemon, after they all started.\n" +
	"if [ -e " + SettleMark + " ]; then vtysh_b() { :; }; fi\n"

// daemonsOn are the daemons that conf has sections or interface lines
// for (zebra, staticd and watchfrr, which always run, aside).
func daemonsOn(conf string) map[string]bool {
	on := map[string]bool{}
	for _, line := range strings.Split(conf, "\n") {
		line = strings.TrimSpace(line)
		for prefix, d := range daemonOf {
			if line == prefix || strings.HasPrefix(line, prefix+" ") {
				on[d] = true
			}
		}
		if strings.HasPrefix(line, "ip ospf ") {
			on["ospfd"] = true
		}
		if strings.HasPrefix(line, "ipv6 ospf6 ") {
			on["ospf6d"] = true
		}
	}
	return on
}

// Daemons writes FRR's daemons file: the daemons that conf has sections
// for (zebra, staticd and watchfrr always run).
func Daemons(conf string) string {
	on := daemonsOn(conf)
	var b strings.Builder
	b.WriteString("# FRR daemons of this node, written by netlab from its frr.conf.\n")
	for _, d := range allDaemons {
		v := "no"
		if on[d] {
			v = "yes"
		}
		fmt.Fprintf(&b, "%s=%s\n", d, v)
	}
	b.WriteString("vtysh_enable=yes\n")
	// FRR's own default. Each event loop (a daemon's, and each of zebra's
	// and bgpd's threads) zeroes tables sized by the open-file limit, which
	// a node otherwise inherits from netlab (20,000): 5.7 MiB a router more
	// to fault in and zero, for sockets that a few dozen BGP neighbours
	// never need.
	b.WriteString("MAX_FDS=1024\n")
	b.WriteString("zebra_options=\"  -A 127.0.0.1 -s 90000000\"\n")
	for _, d := range allDaemons {
		addr := "127.0.0.1"
		if strings.HasSuffix(d, "6d") || d == "ripngd" {
			addr = "::1"
		}
		fmt.Fprintf(&b, "%s_options=\"  -A %s\"\n", d, addr)
	}
	b.WriteString("staticd_options=\"-A 127.0.0.1\"\n")
	b.WriteString(settleHook)
	return b.String()
}

// RadvdPath is where radvd's configuration goes in a node; netlab/router
// starts radvd when it exists.
const RadvdPath = "/etc/radvd.conf"

// Radvd renders radvd.conf for a node whose routing has ra: router
// advertisements every 3 to 10 s on each interface, announcing its /64
// prefixes on-link and for SLAAC. "" when the node sends none.
func Radvd(n *spec.Node) string {
	if n.Routing == nil || len(n.Routing.RA) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# radvd configuration of %s, written by netlab from routing.ra.\n", n.Name)
	for _, name := range n.Routing.RA {
		i := n.Interfaces[name]
		if i == nil {
			continue
		}
		fmt.Fprintf(&b, "interface %s {\n\tAdvSendAdvert on;\n\tMinRtrAdvInterval 3;\n\tMaxRtrAdvInterval 10;\n", name)
		for _, p := range spec.RAPrefixes(i) {
			fmt.Fprintf(&b, "\tprefix %s {\n\t\tAdvOnLink on;\n\t\tAdvAutonomous on;\n\t};\n", p)
		}
		b.WriteString("};\n")
	}
	return b.String()
}
