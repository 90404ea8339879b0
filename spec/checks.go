package spec

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/checks/kathara"
)

// Check is one expectation of a working lab, run by netlab check: a probe
// from (or on) a node, and what its outcome must be.
type Check struct {
	Name    string `yaml:"name,omitempty" json:"name"`
	Hint    string `yaml:"hint,omitempty" json:"hint,omitempty"`     // shown when the check fails
	Stage   string `yaml:"stage,omitempty" json:"stage,omitempty"`   // netlab check --stage S runs only stage S
	Within  string `yaml:"within,omitempty" json:"within,omitempty"` // keep trying for this long
	Retry   int    `yaml:"retry,omitempty" json:"retry,omitempty"`   // or this many more times
	Expect  string `yaml:"expect,omitempty" json:"expect,omitempty"` // pass (default) or fail
	From    string `yaml:"from,omitempty" json:"from,omitempty"`
	On      string `yaml:"on,omitempty" json:"on,omitempty"` // the same as from
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`

	Ping     string     `yaml:"ping,omitempty" json:"ping,omitempty"`
	Count    int        `yaml:"count,omitempty" json:"count,omitempty"`
	TCP      string     `yaml:"tcp,omitempty" json:"tcp,omitempty"`
	UDP      string     `yaml:"udp,omitempty" json:"udp,omitempty"`
	DNS      string     `yaml:"dns,omitempty" json:"dns,omitempty"`
	Answer   string     `yaml:"answer,omitempty" json:"answer,omitempty"`
	Type     string     `yaml:"type,omitempty" json:"type,omitempty"`
	Server   string     `yaml:"server,omitempty" json:"server,omitempty"`
	Path     string     `yaml:"path,omitempty" json:"path,omitempty"`
	Via      StringList `yaml:"via,omitempty" json:"via,omitempty"`
	HTTP     string     `yaml:"http,omitempty" json:"http,omitempty"`
	Status   int        `yaml:"status,omitempty" json:"status,omitempty"`
	Contains string     `yaml:"contains,omitempty" json:"contains,omitempty"`
	Route    string     `yaml:"route,omitempty" json:"route,omitempty"`
	Address  string     `yaml:"address,omitempty" json:"address,omitempty"`
	Is       string     `yaml:"is,omitempty" json:"is,omitempty"`
	Run      string     `yaml:"run,omitempty" json:"run,omitempty"`
	Exit     *int       `yaml:"exit,omitempty" json:"exit,omitempty"`
	Output   string     `yaml:"output,omitempty" json:"output,omitempty"`
	// Signature is a Kathará builtin test signature (NODE.builtin), a
	// path relative to the lab file.
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
	// Matrix is the connectivity matrix of the lab's groups (ASes).
	Matrix *MatrixCheck `yaml:"matrix,omitempty" json:"matrix,omitempty"`

	Index      int            `yaml:"-" json:"-"` // position under checks
	Probe      string         `yaml:"-" json:"-"` // which probe: ping, tcp, udp, dns, path, http, route, address, run or signature
	Node       string         `yaml:"-" json:"-"` // From or On
	ExpectFail bool           `yaml:"-" json:"-"` // expect: fail
	Wait       time.Duration  `yaml:"-" json:"-"` // parsed Within (0: no waiting)
	Limit      time.Duration  `yaml:"-" json:"-"` // parsed Timeout, or the probe's default
	Addr       netip.Addr     `yaml:"-" json:"-"` // the resolved host of ping, tcp, udp, path, http; dns: the server (invalid: the node's resolv.conf)
	Port       int            `yaml:"-" json:"-"` // tcp, udp, http
	Answers    []string       `yaml:"-" json:"-"` // dns: the answer, normalised (addresses, or a name with a final dot)
	Hops       [][]netip.Addr `yaml:"-" json:"-"` // path: each via's addresses (a node's: all of them), in order
	Prefix     netip.Prefix   `yaml:"-" json:"-"` // route: the destination; address: the value of is
	Nexthop    netip.Addr     `yaml:"-" json:"-"` // route: via
	ExitCode   int            `yaml:"-" json:"-"` // run: Exit, default 0
	OutputRe   *regexp.Regexp `yaml:"-" json:"-"` // run: compiled Output
	Want       kathara.State  `yaml:"-" json:"-"` // signature: the file's state, read at load time
}

// Probes are the kinds of check, in the order the documentation gives them.
var Probes = []string{"ping", "tcp", "udp", "dns", "path", "http", "route", "address", "run", "signature", "matrix"}

// probeOptions are the keys each probe takes besides the common ones.
var probeOptions = map[string][]string{
	"ping":      {"count", "timeout"},
	"tcp":       {"timeout"},
	"udp":       {"timeout"},
	"dns":       {"answer", "type", "server", "timeout"},
	"path":      {"via", "timeout"},
	"http":      {"status", "contains", "timeout"},
	"route":     {"via"},
	"address":   {"is"},
	"run":       {"exit", "output", "timeout"},
	"signature": {"timeout"},
	"matrix":    {"timeout"},
}

// DefaultTimeouts are how long one try of each probe waits when the check
// gives no timeout: ping per echo, path per hop, run for the command.
var DefaultTimeouts = map[string]time.Duration{
	"ping": 2 * time.Second, "tcp": 2 * time.Second, "udp": 2 * time.Second, "dns": 2 * time.Second,
	"path": time.Second, "http": 5 * time.Second, "run": 10 * time.Second, "signature": 10 * time.Second,
	"matrix": time.Second,
}

// probeArg is the value of the check's probe key.
func (ch *Check) probeArg(probe string) string {
	switch probe {
	case "ping":
		return ch.Ping
	case "tcp":
		return ch.TCP
	case "udp":
		return ch.UDP
	case "dns":
		return ch.DNS
	case "path":
		return ch.Path
	case "http":
		return ch.HTTP
	case "route":
		return ch.Route
	case "address":
		return ch.Address
	case "run":
		return ch.Run
	case "signature":
		return ch.Signature
	case "matrix":
		return "all groups"
	}
	return ""
}

// Target is the value of the check's probe key, as written.
func (ch *Check) Target() string { return ch.probeArg(ch.Probe) }

// StageNames lists the lab's stages: those of stages: when the file gives
// them, else those the checks name, in the order they first appear.
func (l *Lab) StageNames() []string {
	var out []string
	if len(l.Stages) > 0 {
		for _, s := range l.Stages {
			out = append(out, s.Name)
		}
		return out
	}
	for _, ch := range l.Checks {
		if ch.Stage != "" && !slices.Contains(out, ch.Stage) {
			out = append(out, ch.Stage)
		}
	}
	return out
}

// lookupHost is Lab.LookupHost for the checks: the lab's names are indexed
// once, and each node's address found once, for labs with many checks.
func (c *checker) lookupHost(host string) (netip.Addr, *Node, bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, nil, true
	}
	if c.hostNames == nil {
		c.hostNames = map[string]*Node{}
		c.hostAddrs = map[*Node]netip.Addr{}
		for _, n := range c.lab.SortedNodes() {
			for _, name := range n.HostNames() {
				if c.hostNames[name] == nil {
					c.hostNames[name] = n
				}
			}
		}
	}
	n := c.lab.Nodes[host]
	if n == nil {
		n = c.hostNames[host]
	}
	if n == nil {
		return netip.Addr{}, nil, false
	}
	a, ok := c.hostAddrs[n]
	if !ok {
		a = n.HostAddr()
		c.hostAddrs[n] = a
	}
	return a, n, a.IsValid()
}

// given tells whether the file wrote a value at path.
func (c *checker) given(at string) bool {
	_, ok := c.ps.pos.value[at]
	return ok
}

// checks validates the lab's checks and resolves their hosts. Runs after
// addresses are allocated.
func (c *checker) checks() {
	names := map[string]int{} // explicit names -> index
	for k, ch := range c.lab.Checks {
		if ch == nil {
			ch = &Check{}
			c.lab.Checks[k] = ch
		}
		ch.Index = k
		c.check(ch)
		if ch.Name != "" {
			if first, dup := names[ch.Name]; dup {
				c.ps.add(path("checks", k, "name"), "checks[%d] has this name already: names tell checks apart in reports", first)
			} else {
				names[ch.Name] = k
			}
		}
	}
	// Default names, made unique by a number.
	used := map[string]bool{}
	for name := range names {
		used[name] = true
	}
	for _, ch := range c.lab.Checks {
		if ch.Name != "" || ch.Probe == "" {
			continue
		}
		base := ch.defaultName()
		name := base
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s #%d", base, i)
		}
		ch.Name = name
		used[name] = true
	}
}

// check validates one check and fills in its parsed fields.
func (c *checker) check(ch *Check) {
	at := path("checks", ch.Index)
	var probes []string
	for _, p := range Probes {
		if c.given(path(at, p)) {
			probes = append(probes, p)
		}
	}
	switch len(probes) {
	case 0:
		c.ps.add(at, "a check needs a probe: one of %s", strings.Join(Probes, ", "))
		return
	case 1:
		ch.Probe = probes[0]
	default:
		c.ps.add(at, "a check has one probe, this one has %s: split it into %d checks", strings.Join(probes, " and "), len(probes))
		return
	}
	pat := path(at, ch.Probe)

	// The node it runs from or on.
	switch {
	case ch.Probe == "matrix":
		c.checkMatrix(at, ch) // no node: it runs from a host of every group
	case ch.From != "" && ch.On != "":
		c.ps.add(path(at, "on"), "give from or on, not both (they mean the same)")
	case ch.From == "" && ch.On == "":
		c.ps.add(at, "the check needs a node: from: NODE (or on: NODE)")
	}
	ch.Node = ch.From
	nat := path(at, "from")
	if ch.On != "" {
		ch.Node, nat = ch.On, path(at, "on")
	}
	node := c.lab.Nodes[ch.Node]
	if ch.Node != "" && node == nil {
		c.ps.add(nat, "unknown node %q (known: %s)", ch.Node, c.knownNodes())
	}

	// Options of other probes.
	allowed := probeOptions[ch.Probe]
	for _, p := range Probes {
		for _, o := range probeOptions[p] {
			if !slices.Contains(allowed, o) && c.given(path(at, o)) {
				c.ps.addKey(path(at, o), "%s does not apply to a %s check (it takes: %s)", o, ch.Probe, quoteList(allowed))
			}
		}
	}

	// Common keys.
	ch.ExpectFail = ch.Expect == "fail"
	if ch.Within != "" {
		d, msg := boundedDuration(ch.Within, MaxCheckWait, "10s")
		if msg == "" && d == 0 {
			msg = fmt.Sprintf("%q is not a duration like 10s", ch.Within)
		}
		if msg != "" {
			c.ps.add(path(at, "within"), "%s", msg)
		}
		ch.Wait = d
		if ch.Retry != 0 {
			c.ps.add(path(at, "retry"), "give within (a duration) or retry (a count), not both")
		}
	}
	if ch.Retry < 0 || ch.Retry > MaxCheckRetry {
		c.ps.add(path(at, "retry"), "must be from 0 to %d (an hour of tries), not %d", MaxCheckRetry, ch.Retry)
	}
	ch.Limit = DefaultTimeouts[ch.Probe]
	if ch.Timeout != "" {
		d, msg := boundedDuration(ch.Timeout, MaxCheckWait, "2s")
		if msg == "" && d == 0 {
			msg = fmt.Sprintf("%q is not a duration like 2s", ch.Timeout)
		}
		if msg != "" {
			c.ps.add(path(at, "timeout"), "%s", msg)
		}
		ch.Limit = d
	}

	switch ch.Probe {
	case "ping":
		ch.Addr, _ = c.checkHost(pat, ch.Ping)
		if ch.Count == 0 {
			ch.Count = 1
		}
		if ch.Count < 1 || ch.Count > 100 {
			c.ps.add(path(at, "count"), "must be from 1 to 100, not %d", ch.Count)
		}
	case "tcp", "udp":
		ch.Addr, ch.Port = c.checkHostPort(pat, ch.probeArg(ch.Probe))
	case "dns":
		c.checkDNS(at, ch)
	case "path":
		ch.Addr, _ = c.checkHost(pat, ch.Path)
		for k, v := range ch.Via {
			vat := path(at, "via")
			if len(ch.Via) > 1 {
				vat = path(vat, k)
			}
			ch.Hops = append(ch.Hops, c.checkHop(vat, v))
		}
	case "http":
		c.checkHTTP(at, ch)
	case "route":
		c.checkRoute(at, ch)
	case "address":
		if node != nil && node.Interfaces[ch.Address] == nil {
			c.ps.add(pat, "node %s has no interface %q (known: %s)", node.Name, ch.Address, c.knownIfaces(node))
		}
		if ch.Is != "" {
			p, err := netip.ParsePrefix(ch.Is)
			if err != nil {
				c.ps.add(path(at, "is"), "%q is not an address with prefix length like 10.0.0.1/24", ch.Is)
			}
			ch.Prefix = p
		}
	case "run":
		if strings.TrimSpace(ch.Run) == "" {
			c.ps.add(pat, "the command is empty")
		}
		if ch.Exit != nil {
			ch.ExitCode = *ch.Exit
			if ch.ExitCode < 0 || ch.ExitCode > 255 {
				c.ps.add(path(at, "exit"), "an exit status is from 0 to 255, not %d", ch.ExitCode)
			}
		}
		if ch.Output != "" {
			re, err := regexp.Compile(ch.Output)
			if err != nil {
				c.ps.add(path(at, "output"), "%q is not a regular expression: %v", ch.Output, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			ch.OutputRe = re
		}
	case "signature":
		c.checkSignature(pat, ch)
	}
}

// checkSignature reads a Kathará builtin signature, relative to the lab
// file.
func (c *checker) checkSignature(at string, ch *Check) {
	file := ch.Signature
	data, err := ReadLabFile(c.lab.dir(), file, MaxSignatureBytes)
	if err != nil {
		c.ps.add(at, "cannot read %s: %v", file, unwrapPath(err))
		return
	}
	want, err := kathara.ParseSignature(data)
	if err != nil {
		c.ps.add(at, "%s: %v", file, err)
		return
	}
	ch.Want = want
}

// checkHost resolves HOST: a node, a host name of a node, or an address.
func (c *checker) checkHost(at, host string) (netip.Addr, bool) {
	a, n, ok := c.lookupHost(host)
	switch {
	case ok:
		return a, true
	case n != nil:
		c.ps.add(at, "node %s has no address to reach", n.Name)
	case host == "":
		c.ps.add(at, "needs a host: a node, a host name of a node, or an address")
	default:
		c.ps.add(at, "%q is neither a node, a host name of a node nor an address (nodes: %s)", host, c.knownNodes())
	}
	return netip.Addr{}, false
}

// checkHostPort resolves HOST:PORT ([ADDR]:PORT for IPv6).
func (c *checker) checkHostPort(at, s string) (netip.Addr, int) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		c.ps.add(at, "%q is not HOST:PORT like www:80 or [fd00::5]:80", s)
		return netip.Addr{}, 0
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		c.ps.add(at, "port %q is not a number from 1 to 65535", portStr)
	}
	a, _ := c.checkHost(at, host)
	return a, port
}

// checkHop resolves a via of a path: an address, or a node (any of its addresses).
func (c *checker) checkHop(at, s string) []netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return []netip.Addr{a}
	}
	_, n, _ := c.lookupHost(s)
	if n == nil {
		c.ps.add(at, "%q is neither an address nor a node (nodes: %s)", s, c.knownNodes())
		return nil
	}
	var out []netip.Addr
	for _, i := range n.SortedInterfaces() {
		for _, p := range i.Addrs {
			out = append(out, p.Addr())
		}
	}
	if len(out) == 0 {
		c.ps.add(at, "node %s has no address a hop could answer from", n.Name)
	}
	return out
}

func (c *checker) checkDNS(at string, ch *Check) {
	if !validDNSName(ch.DNS) {
		c.ps.add(path(at, "dns"), "%q is not a domain name to look up", ch.DNS)
	}
	if ch.Type == "" {
		ch.Type = "A"
		if a, err := netip.ParseAddr(ch.Answer); err == nil && a.Is6() {
			ch.Type = "AAAA"
		}
	}
	if ch.Answer != "" {
		switch ch.Type {
		case "A", "AAAA":
			a, err := netip.ParseAddr(ch.Answer)
			switch {
			case err != nil:
				c.ps.add(path(at, "answer"), "%q is not an address, which type %s answers with", ch.Answer, ch.Type)
			case a.Is4() && ch.Type == "AAAA":
				c.ps.add(path(at, "answer"), "%s is an IPv4 address: type AAAA answers with IPv6 ones (use type: A)", a)
			case a.Is6() && ch.Type == "A":
				c.ps.add(path(at, "answer"), "%s is an IPv6 address: type A answers with IPv4 ones (use type: AAAA)", a)
			default:
				ch.Answers = []string{a.String()}
			}
		case "MX":
			if !validDNSName(ch.Answer) {
				c.ps.add(path(at, "answer"), "%q is not a domain name: an MX record names a mail server", ch.Answer)
			}
			ch.Answers = []string{strings.ToLower(strings.TrimSuffix(ch.Answer, ".")) + "."}
		}
	}
	if ch.Server != "" {
		ch.Addr, _ = c.checkHost(path(at, "server"), ch.Server)
	}
}

func (c *checker) checkHTTP(at string, ch *Check) {
	hat := path(at, "http")
	u, err := url.Parse(ch.HTTP)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.ps.add(hat, "%q is not a URL like http://www/ or https://10.0.0.5:8443/path", ch.HTTP)
		return
	}
	ch.Port = 80
	if u.Scheme == "https" {
		ch.Port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			c.ps.add(hat, "port %q is not a number from 1 to 65535", p)
		}
		ch.Port = n
	}
	ch.Addr, _ = c.checkHost(hat, u.Hostname())
	if ch.Status == 0 {
		ch.Status = 200
	}
	if ch.Status < 100 || ch.Status > 599 {
		c.ps.add(path(at, "status"), "an HTTP status is from 100 to 599, not %d", ch.Status)
	}
}

func (c *checker) checkRoute(at string, ch *Check) {
	switch ch.Route {
	case "default":
		ch.Prefix = netip.MustParsePrefix("0.0.0.0/0")
	case "default6":
		ch.Prefix = netip.MustParsePrefix("::/0")
	default:
		ch.Prefix = c.subnet(path(at, "route"), ch.Route, 0)
	}
	switch len(ch.Via) {
	case 0:
	case 1:
		a, err := netip.ParseAddr(ch.Via[0])
		if err != nil {
			c.ps.add(path(at, "via"), "%q is not an IP address", ch.Via[0])
		} else if ch.Prefix.IsValid() && a.Is4() != ch.Prefix.Addr().Is4() {
			c.ps.add(path(at, "via"), "%s is not of the route's address family", a)
		}
		ch.Nexthop = a
	default:
		c.ps.add(path(at, "via"), "a route has one next hop to check, not a list")
	}
}

// defaultName is a readable name for a check that has none:
// "h1 ping www", "r1 route 10.0.5.0/24 via 10.1.12.2".
func (ch *Check) defaultName() string {
	words := []string{ch.Node, ch.Probe, ch.Target()}
	switch ch.Probe {
	case "dns":
		words = append(words, ch.Type)
		if ch.Answer != "" {
			words = append(words, ch.Answer)
		}
	case "path", "route":
		if len(ch.Via) > 0 {
			words = append(words, "via", strings.Join(ch.Via, ", "))
		}
	case "address":
		if ch.Is != "" {
			words = append(words, "is", ch.Is)
		}
	case "run":
		cmd := strings.Join(strings.Fields(ch.Run), " ")
		if len(cmd) > 40 {
			cmd = cmd[:37] + "..."
		}
		words[2] = strconv.Quote(cmd)
	}
	name := strings.TrimSpace(strings.Join(words, " "))
	if ch.ExpectFail {
		name += " (must fail)"
	}
	return name
}
