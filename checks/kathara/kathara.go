// Package kathara compares a device's network state with a Kathará builtin
// test signature (_test/signature/NODE.builtin, written by Kathará's
// `ltest` from 2019 until it was removed in 2025).
//
// Such a signature is a JSON object of four keys, each the cleaned output
// of a command run in the device:
//
//	"interfaces":      {IFNAME: {"ip_addresses": ["ADDR/LEN", ...], "state": OPERSTATE}}  from `ip -j addr show`
//	"route":           [ROUTE, ...], the objects of `ip -j route show` as they are
//	"listening_ports": the lines of `netstat -tuwln` without its two header lines, sorted
//	"processes":       the lines of `ps -e -o command` without its header, sorted
//
// Kathará compared a result with the signature with DeepDiff, ignoring the
// order of lists. Compare does the same for interfaces (their names,
// addresses and operational state: Kathará kept nothing else of `ip -j addr
// show`, so MAC addresses, interface indexes and address lifetimes never
// counted), routes (each route object whole, every field of it, as Kathará
// compared them) and listening ports, with these differences, each written
// down where it is made:
//
//   - processes are not compared: a netlab node runs its own init and
//     netlab's start command, not Kathará's, so its process list never
//     equals one recorded under Kathará;
//   - a listening port is its protocol, local address, foreign address and
//     state; netstat's Recv-Q and Send-Q columns (bytes waiting at that
//     moment) and its spacing are left out;
//   - a route's nhid is left out: it numbers the kernel's nexthop object
//     that FRR made for the route, in the order FRR made them, which
//     changes from run to run as an interface index does (which Kathará
//     left out);
//   - IPv6 link-local addresses (fe80::/10) are left out: they are made from
//     the MAC address, which Kathará left out;
//   - the tunnel devices the kernel puts in every namespace when a tunnel
//     module is loaded on the host (tunl0, sit0, gre0, ...) are left out
//     when they have no address: whether they exist depends on the host,
//     not on the lab.
package kathara

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// State is what a builtin test records of a device and what Compare
// compares: interfaces, routes and listening ports.
type State struct {
	Interfaces map[string]Interface
	Routes     []Route
	Ports      []Port
}

// Interface is an interface of a device: its addresses (ADDR/LEN) and its
// operational state (UP, DOWN, UNKNOWN for the loopback).
type Interface struct {
	Addresses []string
	State     string
}

// Route is one object of `ip -j route show`, every field as iproute2 wrote
// it.
type Route map[string]any

// Port is a listening socket, a line of `netstat -tuwln`: protocol (tcp,
// udp, raw, tcp6...), local and foreign address, and state (LISTEN for
// TCP, empty for UDP, the socket's number for raw).
type Port struct {
	Proto, Local, Foreign, State string
}

func (p Port) String() string {
	return strings.TrimSpace(strings.Join([]string{p.Proto, p.Local, p.Foreign, p.State}, " "))
}

// signatureFile is the JSON of a NODE.builtin file.
type signatureFile struct {
	Interfaces *map[string]struct {
		IPAddresses []string `json:"ip_addresses"`
		State       string   `json:"state"`
	} `json:"interfaces"`
	Route          *[]Route  `json:"route"`
	ListeningPorts *[]string `json:"listening_ports"`
	// "processes" is not compared.
}

// ParseSignature reads a Kathará builtin signature (NODE.builtin).
func ParseSignature(data []byte) (State, error) {
	var f signatureFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return State{}, fmt.Errorf("not a Kathará builtin signature (JSON with interfaces, route, listening_ports): %v", err)
	}
	var missing []string
	if f.Interfaces == nil {
		missing = append(missing, "interfaces")
	}
	if f.Route == nil {
		missing = append(missing, "route")
	}
	if f.ListeningPorts == nil {
		missing = append(missing, "listening_ports")
	}
	if len(missing) > 0 {
		return State{}, fmt.Errorf("not a Kathará builtin signature: it has no %s", strings.Join(missing, ", "))
	}
	s := State{Interfaces: map[string]Interface{}, Routes: *f.Route}
	for name, i := range *f.Interfaces {
		s.Interfaces[name] = Interface{Addresses: i.IPAddresses, State: i.State}
	}
	for _, l := range *f.ListeningPorts {
		if p, ok := parsePort(l); ok {
			s.Ports = append(s.Ports, p)
		}
	}
	return s.clean(), nil
}

// Commands are what Collect reads, run in the device in this order: the
// builtin test's commands, less ps.
var Commands = []string{"ip -j addr show", "ip -j route show", "netstat -tuwln"}

// Collect makes a device's state from the output of Commands, as Kathará's
// builtin test did.
func Collect(addrs, routes, netstat []byte) (State, error) {
	var links []struct {
		Ifname    string `json:"ifname"`
		Operstate string `json:"operstate"`
		AddrInfo  []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(addrs, &links); err != nil {
		return State{}, fmt.Errorf("%s printed no JSON list (%v): %s", Commands[0], err, firstLine(addrs))
	}
	s := State{Interfaces: map[string]Interface{}}
	for _, l := range links {
		i := Interface{State: l.Operstate, Addresses: []string{}}
		for _, a := range l.AddrInfo {
			i.Addresses = append(i.Addresses, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
		}
		s.Interfaces[l.Ifname] = i
	}
	dec := json.NewDecoder(bytes.NewReader(routes))
	dec.UseNumber()
	if err := dec.Decode(&s.Routes); err != nil {
		return State{}, fmt.Errorf("%s printed no JSON list (%v): %s", Commands[1], err, firstLine(routes))
	}
	for _, l := range strings.Split(string(netstat), "\n") {
		if p, ok := parsePort(l); ok {
			s.Ports = append(s.Ports, p)
		}
	}
	return s.clean(), nil
}

// parsePort reads a line of netstat -tuwln; headers, blank lines and
// Docker's resolver (127.0.0.11, which Kathará's test left out too) are not
// ports.
func parsePort(line string) (Port, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || strings.Contains(line, "127.0.0.11") {
		return Port{}, false
	}
	switch {
	case strings.HasPrefix(f[0], "tcp"), strings.HasPrefix(f[0], "udp"), strings.HasPrefix(f[0], "raw"):
	default:
		return Port{}, false // "Active Internet connections", "Proto Recv-Q ..."
	}
	p := Port{Proto: f[0], Local: f[3], Foreign: f[4]}
	if len(f) > 5 {
		p.State = strings.Join(f[5:], " ")
	}
	return p, true
}

// fallbackTunnels are the devices a tunnel module adds to every network
// namespace once it is loaded on the host.
var fallbackTunnels = []string{"tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "ip6gre0"}

// clean leaves out what Compare does not compare (see the package
// comment).
func (s State) clean() State {
	for name, i := range s.Interfaces {
		var keep []string
		for _, a := range i.Addresses {
			if p, err := netip.ParsePrefix(a); err == nil && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
				continue
			}
			keep = append(keep, a)
		}
		i.Addresses = keep
		if len(keep) == 0 && slices.Contains(fallbackTunnels, name) {
			delete(s.Interfaces, name)
			continue
		}
		s.Interfaces[name] = i
	}
	for _, r := range s.Routes {
		delete(r, "nhid")
	}
	return s
}

// Compare lists the differences of a device's state (got) from its
// signature (want), ignoring order, in words: what the signature has and
// the device has not ("missing"), and what the device has beyond the
// signature ("extra"). None means the device matches.
func Compare(want, got State) []string {
	var out []string
	names := map[string]bool{}
	for n := range want.Interfaces {
		names[n] = true
	}
	for n := range got.Interfaces {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		w, inWant := want.Interfaces[n]
		g, inGot := got.Interfaces[n]
		switch {
		case !inGot:
			out = append(out, fmt.Sprintf("interface %s missing", n))
			continue
		case !inWant:
			out = append(out, fmt.Sprintf("extra interface %s", n))
			continue
		}
		miss, extra := setDiff(w.Addresses, g.Addresses)
		for _, a := range miss {
			out = append(out, fmt.Sprintf("%s: address %s missing", n, a))
		}
		for _, a := range extra {
			out = append(out, fmt.Sprintf("%s: extra address %s", n, a))
		}
		if w.State != g.State {
			out = append(out, fmt.Sprintf("%s: state %s (signature: %s)", n, g.State, w.State))
		}
	}
	miss, extra := setDiff(routeKeys(want.Routes), routeKeys(got.Routes))
	for _, r := range miss {
		out = append(out, "route missing: "+routeText(r))
	}
	for _, r := range extra {
		out = append(out, "extra route: "+routeText(r))
	}
	miss, extra = setDiff(portKeys(want.Ports), portKeys(got.Ports))
	for _, p := range miss {
		out = append(out, "listening port missing: "+p)
	}
	for _, p := range extra {
		out = append(out, "extra listening port: "+p)
	}
	return out
}

// setDiff returns the members of want not in got and of got not in want,
// sorted, each once.
func setDiff(want, got []string) (missing, extra []string) {
	w, g := map[string]bool{}, map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range sortedKeys(w) {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for _, s := range sortedKeys(g) {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// routeKeys are the routes as canonical JSON (keys sorted), which tells two
// routes apart by every field.
func routeKeys(rs []Route) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}

func portKeys(ps []Port) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// routeOrder are the fields of a route in the order `ip route` prints
// them, with its words.
var routeOrder = []struct{ key, word string }{
	{"type", ""}, {"dst", ""}, {"gateway", "via"}, {"dev", "dev"}, {"protocol", "proto"},
	{"scope", "scope"}, {"prefsrc", "src"}, {"metric", "metric"},
}

// routeText writes a route (canonical JSON) as `ip route` would, every
// field of it: "10.0.3.0/24 via 10.0.2.2 dev eth1 proto ospf metric 20".
func routeText(key string) string {
	var r map[string]any
	dec := json.NewDecoder(strings.NewReader(key))
	dec.UseNumber()
	if dec.Decode(&r) != nil {
		return key
	}
	var words []string
	for _, f := range routeOrder {
		v, ok := r[f.key]
		if !ok {
			continue
		}
		delete(r, f.key)
		if f.key == "type" && v == "unicast" {
			continue
		}
		if f.word != "" {
			words = append(words, f.word)
		}
		words = append(words, value(v))
	}
	if fl, ok := r["flags"].([]any); ok && len(fl) == 0 {
		delete(r, "flags")
	}
	rest := make(map[string]bool, len(r))
	for k := range r {
		rest[k] = true
	}
	for _, k := range sortedKeys(rest) {
		words = append(words, k, value(r[k]))
	}
	return strings.Join(words, " ")
}

func value(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(l) > 80 {
		l = l[:77] + "..."
	}
	if l == "" {
		return "(nothing)"
	}
	return l
}
