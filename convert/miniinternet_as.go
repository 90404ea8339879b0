package convert

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/internet"
)

// services of l3_routers.txt's second column: the platform's own
// containers, which netlab does not run.
var miniServices = map[string]bool{"DNS": true, "MATRIX": true, "MATRIX_TARGET": true, "MEASUREMENT": true}

// as reads an AS's routers, internal links, switches, hosts and switch links.
func (r *miniReader) as(m *miniAS) {
	as := m.as
	routersFile, linksFile, switchesFile, hostsFile, l2LinksFile := m.files[0], m.files[1], m.files[2], m.files[3], m.files[4]
	lines := r.lines(routersFile, 4, 5, "NAME SERVICE HOST|L2-NAME[:IMAGE] vtysh|linux [ALL]")
	allInOne := slices.ContainsFunc(lines, func(l miniLine) bool { return len(l.fields) == 5 && l.fields[4] == "ALL" })
	byName := map[string]*internet.Router{}
	for i, l := range lines {
		name, service, attach, kind := l.fields[0], l.fields[1], l.fields[2], l.fields[3]
		if len(name) > 10 {
			r.fail(routersFile, l.n, "router name %s is longer than 10 characters (the mini-Internet's own limit)", name)
			continue
		}
		if len(l.fields) == 5 && l.fields[4] != "ALL" {
			r.fail(routersFile, l.n, "fifth column %q: only ALL (all in one router) is known", l.fields[4])
			continue
		}
		if service != "N/A" && miniServices[service] {
			r.note(routersFile, l.n, "%s's %s service is not mapped: netlab runs none of the platform's own containers", name, service)
		} else if service != "N/A" {
			r.fail(routersFile, l.n, "unknown service %q (known: N/A, DNS, MATRIX, MATRIX_TARGET, MEASUREMENT)", service)
			continue
		}
		if kind != "vtysh" && kind != "linux" {
			r.fail(routersFile, l.n, "router kind %q is neither vtysh nor linux", kind)
			continue
		}
		rt := byName[name]
		switch {
		case allInOne && i > 0:
			if rt == nil {
				r.fail(routersFile, l.n, "all in one (ALL): every line names the same router, %s, not %s", lines[0].fields[0], name)
				continue
			}
		case rt != nil:
			r.fail(routersFile, l.n, "router %s is given twice", name)
			continue
		case i >= internet.MaxRouters:
			r.fail(routersFile, l.n, "more than %d routers: the address plan numbers no more", internet.MaxRouters)
			continue
		default:
			rt = &internet.Router{Name: name, Index: i}
			byName[name] = rt
			as.Routers = append(as.Routers, rt)
		}
		what, image, _ := strings.Cut(attach, ":")
		if what == "N/A" {
			continue
		}
		if l2, ok := strings.CutPrefix(what, "L2-"); ok {
			if rt.L2 != "" && rt.L2 != l2 {
				r.fail(routersFile, l.n, "router %s is on two switched networks, %s and %s: netlab maps one", name, rt.L2, l2)
				continue
			}
			rt.L2 = l2
		} else if image == "" {
			r.fail(routersFile, l.n, "%q is neither N/A, host:IMAGE, L2-NAME:IMAGE nor another KIND:IMAGE (routinator, krill)", attach)
			continue
		} else if what != "host" {
			r.note(routersFile, l.n, "%s's %s host is a plain host here, image %s", name, what, internet.HostImage)
		}
		if image == "" {
			continue
		}
		r.note(routersFile, l.n, "host image %s runs as %s", image, internet.HostImage)
		rt.Hosts = append(rt.Hosts, i)
		ifname := "host"
		if allInOne {
			ifname = "host" + strconv.Itoa(i)
		}
		rt.HostIfaces = append(rt.HostIfaces, ifname)
	}
	index := map[string]int{}
	for k, rt := range as.Routers {
		index[rt.Name] = k
	}
	for _, l := range r.lines(linksFile, 2, 5, "ROUTER1 ROUTER2 THROUGHPUT DELAY BUFFER") {
		a, okA := index[l.fields[0]]
		b, okB := index[l.fields[1]]
		switch {
		case !okA || !okB:
			r.fail(linksFile, l.n, "AS %d has no router %s", as.Number, map[bool]string{true: l.fields[1], false: l.fields[0]}[okA])
			continue
		case a == b:
			r.fail(linksFile, l.n, "a link from %s to itself", l.fields[0])
			continue
		}
		as.Internal = append(as.Internal, [2]int{a, b})
		if len(l.fields) > 2 {
			r.note(linksFile, l.n, "throughput, delay and buffer are not mapped: give a link delay and rate in the lab file to impair it")
		}
	}
	r.switched(as, switchesFile, hostsFile, l2LinksFile)
}

// switched reads an AS's switches, hosts and switch links: each switched
// network (all its switches) becomes one bridge.
func (r *miniReader) switched(as *internet.AS, switchesFile, hostsFile, l2LinksFile string) {
	byName := map[string]*internet.L2{}
	for _, rt := range as.Routers { // numbered in the routers' order, as the platform does
		if rt.L2 != "" && byName[rt.L2] == nil {
			byName[rt.L2] = &internet.L2{Name: rt.L2}
			as.L2 = append(as.L2, byName[rt.L2])
		}
	}
	switches := map[string]bool{}
	for _, l := range r.lines(switchesFile, 5, 5, "NETWORK SWITCH ROUTER|N/A MAC ID") {
		net, sw, router := l.fields[0], l.fields[1], l.fields[2]
		l2 := byName[net]
		if l2 == nil {
			r.fail(switchesFile, l.n, "switched network %s of AS %d has no router (no l3_routers line says L2-%s)", net, as.Number, net)
			continue
		}
		if switches[net+"/"+sw] {
			r.fail(switchesFile, l.n, "switch %s of %s is given twice", sw, net)
			continue
		}
		switches[net+"/"+sw] = true
		l2.Switches = append(l2.Switches, sw)
		if router != "N/A" && !slices.ContainsFunc(as.Routers, func(rt *internet.Router) bool { return rt.Name == router && rt.L2 == net }) {
			r.fail(switchesFile, l.n, "switch %s is connected to %s, which is not a router of AS %d on L2-%s", sw, router, as.Number, net)
		}
		r.note(switchesFile, l.n, "each switched network is one bridge: its switches, their MACs and ids are not mapped")
	}
	vlans := map[int]bool{}
	for _, l := range r.lines(hostsFile, 8, 8, "NAME IMAGE NETWORK SWITCH THROUGHPUT DELAY BUFFER VLAN") {
		name, net, sw := l.fields[0], l.fields[2], l.fields[3]
		v, err := strconv.Atoi(l.fields[7])
		switch {
		case err != nil || v < 0 || v > internet.MaxVLAN:
			r.fail(hostsFile, l.n, "VLAN %q is not 0 (untagged) to %d", l.fields[7], internet.MaxVLAN)
			continue
		case byName[net] == nil || !switches[net+"/"+sw]:
			r.fail(hostsFile, l.n, "AS %d has no switch %s in %s", as.Number, sw, net)
			continue
		}
		vlans[v] = true
		h := &internet.L2Host{Name: name, VLAN: v, NoAddress: strings.HasPrefix(name, "vpn")}
		if h.NoAddress {
			r.note(hostsFile, l.n, "%s is a VPN endpoint: a host with no address (netlab runs no VPN server)", name)
		}
		byName[net].Hosts = append(byName[net].Hosts, h)
	}
	for _, l2 := range as.L2 {
		for v := range vlans {
			l2.VLANs = append(l2.VLANs, v)
		}
		slices.Sort(l2.VLANs)
	}
	for _, l := range r.lines(l2LinksFile, 4, 7, "NETWORK1 SWITCH1 NETWORK2 SWITCH2 THROUGHPUT DELAY BUFFER") {
		switch {
		case !switches[l.fields[0]+"/"+l.fields[1]] || !switches[l.fields[2]+"/"+l.fields[3]]:
			r.fail(l2LinksFile, l.n, "AS %d has no switch %s in %s or %s in %s", as.Number, l.fields[1], l.fields[0], l.fields[3], l.fields[2])
		case l.fields[0] != l.fields[2]:
			r.fail(l2LinksFile, l.n, "a link between switched networks %s and %s: netlab joins no two bridges; give them one name", l.fields[0], l.fields[2])
		}
	}
}

// aslevel reads aslevel_links.txt: links between ASes, and ASes' ports at IXPs.
func (r *miniReader) aslevel(in *internet.Internet, byNum map[int]*miniAS) {
	const file = "aslevel_links.txt"
	hasRouter := func(m *miniAS, name string) bool {
		return slices.ContainsFunc(m.as.Routers, func(rt *internet.Router) bool { return rt.Name == name })
	}
	for _, l := range r.lines(file, 6, 10, "AS1 ROUTER1 ROLE1 AS2 ROUTER2 ROLE2 THROUGHPUT DELAY BUFFER SUBNET|PEERS") {
		a, errA := strconv.Atoi(l.fields[0])
		b, errB := strconv.Atoi(l.fields[3])
		if errA != nil || errB != nil || byNum[a] == nil || byNum[b] == nil {
			r.fail(file, l.n, "AS %s or %s is not in AS_config.txt", l.fields[0], l.fields[3])
			continue
		}
		ma, mb := byNum[a], byNum[b]
		ra, rb := l.fields[1], l.fields[4]
		if ma.ixp != nil {
			ma, mb, a, b, ra, rb = mb, ma, b, a, rb, ra
		}
		if ma.ixp != nil {
			r.fail(file, l.n, "a link between two IXPs, %d and %d", a, b)
			continue
		}
		if !hasRouter(ma, ra) {
			r.fail(file, l.n, "AS %d has no router %s", a, ra)
			continue
		}
		if mb.ixp != nil {
			mb.ixp.Members = append(mb.ixp.Members, internet.IXPMember{AS: a, Router: ra})
			if len(l.fields) == 10 {
				r.note(file, l.n, "the peers an IXP member announces to (%s) are not mapped: the route server passes every member's routes to every other", l.fields[9])
			}
			continue
		}
		if !hasRouter(mb, rb) {
			r.fail(file, l.n, "AS %d has no router %s", b, rb)
			continue
		}
		rel := map[[2]string]string{{"Provider", "Customer"}: "customer", {"Customer", "Provider"}: "provider", {"Peer", "Peer"}: "peer"}[[2]string{l.fields[2], l.fields[5]}]
		if rel == "" {
			r.fail(file, l.n, "roles %s and %s: a link is Provider-Customer, Customer-Provider or Peer-Peer", l.fields[2], l.fields[5])
			continue
		}
		link := &internet.Link{A: a, B: b, RouterA: ra, RouterB: rb, RelB: rel, Subnet: internet.ExternalSubnet(min(a, b), max(a, b))}
		if len(l.fields) == 10 && l.fields[9] != "N/A" {
			p, err := netip.ParsePrefix(l.fields[9])
			if err != nil || !p.Addr().Is4() || p.Bits() != 24 {
				r.fail(file, l.n, "subnet %q is not an IPv4 /24 like 179.1.3.0/24", l.fields[9])
				continue
			}
			link.Subnet = p.Masked()
		} else {
			r.note(file, l.n, "no subnet given: AS %d-%d takes %s", a, b, link.Subnet)
		}
		if len(l.fields) > 6 {
			r.note(file, l.n, "throughput, delay and buffer are not mapped: give a link delay and rate in the lab file to impair it")
		}
		in.Links = append(in.Links, link)
	}
	for _, x := range in.IXPs {
		if len(x.Members) == 0 {
			r.note("AS_config.txt", byNum[x.Number].line, "IXP %d has no member: its route server has no session", x.Number)
		}
	}
}
