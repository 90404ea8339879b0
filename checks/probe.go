package checks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/netlab/netlab/checks/kathara"
	"github.com/netlab/netlab/internal/nldump"
	"github.com/netlab/netlab/spec"
)

// Nodes is what the probes need of a running lab.
type Nodes interface {
	// NetNS opens the network namespace of the node's running container.
	// The caller closes it. An error says the node is not running.
	NetNS(ctx context.Context, node string) (netns.NsHandle, error)
	// ReadFile reads a file of the node's file system.
	ReadFile(ctx context.Context, node, path string) ([]byte, error)
	// Exec runs cmd in the node with sh -c and returns its output (stdout
	// and stderr) and exit status.
	Exec(ctx context.Context, node, cmd string) ([]byte, int, error)
}

// NetProber makes probes from the host, inside the nodes' network
// namespaces: ICMP echo and traceroute on raw sockets, TCP and UDP, DNS
// queries, HTTP, routes and addresses read with netlink. Only run needs
// the node's image (its sh).
type NetProber struct {
	Nodes Nodes
	Lab   *spec.Lab // the lab, for the matrix check's groups and relations
}

var _ Prober = (*NetProber)(nil)

// Probe tries c's probe once.
func (p *NetProber) Probe(ctx context.Context, c *spec.Check) Outcome {
	switch c.Probe {
	case "run":
		return p.run(ctx, c)
	case "signature":
		return p.signature(ctx, c)
	case "matrix":
		return p.matrix(ctx, c)
	}
	if r, ok := p.Nodes.(RemoteNodes); ok {
		if out, remote := r.ProbeRemote(ctx, c); remote {
			return out
		}
	}
	ns, err := p.Nodes.NetNS(ctx, c.Node)
	if err != nil {
		return Outcome{Err: err}
	}
	defer ns.Close()
	switch c.Probe {
	case "ping":
		return ping(ns, c.Addr, c.Count, c.Limit)
	case "path":
		return tracePath(ns, c.Addr, c.Hops, c.Limit)
	case "tcp":
		return dialTCP(ctx, ns, netip.AddrPortFrom(c.Addr, uint16(c.Port)), c.Limit)
	case "udp":
		return sendUDP(ns, netip.AddrPortFrom(c.Addr, uint16(c.Port)), c.Limit)
	case "dns":
		server := c.Addr
		if !server.IsValid() {
			conf, err := p.Nodes.ReadFile(ctx, c.Node, "/etc/resolv.conf")
			if err != nil {
				return Outcome{Err: fmt.Errorf("read the node's /etc/resolv.conf: %w", err)}
			}
			if server = nameserver(conf); !server.IsValid() {
				return Outcome{Detail: "the node's /etc/resolv.conf names no nameserver: give the node dns: or the check server:"}
			}
		}
		return queryDNS(ns, netip.AddrPortFrom(server, 53), c.DNS, c.Type, c.Answers, c.Limit)
	case "http":
		return getHTTP(ctx, ns, c.HTTP, netip.AddrPortFrom(c.Addr, uint16(c.Port)), c.Status, c.Contains, c.Limit)
	case "route":
		return hasRoute(ns, c.Prefix, c.Nexthop)
	case "address":
		return hasAddress(ns, c.Address, c.Prefix)
	}
	return Outcome{Err: fmt.Errorf("unknown probe %q", c.Probe)}
}

func (p *NetProber) run(ctx context.Context, c *spec.Check) Outcome {
	ctx, cancel := context.WithTimeout(ctx, c.Limit)
	defer cancel()
	out, code, err := p.Nodes.Exec(ctx, c.Node, c.Run)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Outcome{Detail: fmt.Sprintf("did not finish in %s", c.Limit)}
		}
		return Outcome{Err: err}
	}
	snippet := firstLine(out)
	switch {
	case code != c.ExitCode:
		return Outcome{Detail: fmt.Sprintf("exit %d, want %d%s", code, c.ExitCode, snippet)}
	case c.OutputRe != nil && !c.OutputRe.Match(out):
		return Outcome{Detail: fmt.Sprintf("exit %d, output does not match /%s/%s", code, c.OutputRe, snippet)}
	}
	return Outcome{OK: true, Detail: fmt.Sprintf("exit %d%s", code, snippet)}
}

// signature runs the commands of Kathará's builtin test in the node and
// compares what they print with the check's signature.
func (p *NetProber) signature(ctx context.Context, c *spec.Check) Outcome {
	ctx, cancel := context.WithTimeout(ctx, c.Limit)
	defer cancel()
	var outs [][]byte
	for _, cmd := range kathara.Commands {
		out, code, err := p.Nodes.Exec(ctx, c.Node, cmd)
		switch {
		case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
			return Outcome{Detail: fmt.Sprintf("%s did not finish in %s", cmd, c.Limit)}
		case err != nil:
			return Outcome{Err: err}
		case code == 127:
			tool := strings.Fields(cmd)[0]
			return Outcome{Err: fmt.Errorf("node %s has no %s: a signature check runs ip (iproute2) and netstat (net-tools) in the node, as netlab/host and netlab/router have them", c.Node, tool)}
		case code != 0:
			return Outcome{Err: fmt.Errorf("%s in node %s: exit %d%s", cmd, c.Node, code, firstLine(out))}
		}
		outs = append(outs, out)
	}
	got, err := kathara.Collect(outs[0], outs[1], outs[2])
	if err != nil {
		return Outcome{Err: fmt.Errorf("node %s: %w", c.Node, err)}
	}
	if diff := kathara.Compare(c.Want, got); len(diff) > 0 {
		const shown = 4
		detail := strings.Join(diff[:min(shown, len(diff))], "; ")
		if len(diff) > shown {
			detail += fmt.Sprintf("; and %d more", len(diff)-shown)
		}
		return Outcome{Detail: detail}
	}
	return Outcome{OK: true, Detail: fmt.Sprintf("%d interfaces, %d routes, %d listening ports as signed (processes not compared)",
		len(got.Interfaces), len(got.Routes), len(got.Ports))}
}

// firstLine is ": " and the first non-empty line of out, shortened; or "".
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 60 {
				l = l[:57] + "..."
			}
			return ": " + l
		}
	}
	return ""
}

// nameserver is the first nameserver of a resolv.conf.
func nameserver(conf []byte) netip.Addr {
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				return a.WithZone("")
			}
		}
	}
	return netip.Addr{}
}

// netDetail says in words why a connection or a datagram failed.
func netDetail(err error, limit time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused: nothing listens there, or a firewall rejects"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable: the node has no route there"
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		return "not permitted: a firewall of the node drops it"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer in %s", limit)
	}
	return err.Error()
}

func dialTCP(ctx context.Context, ns netns.NsHandle, to netip.AddrPort, limit time.Duration) Outcome {
	start := time.Now()
	conn, err := inNS(ns, func() (net.Conn, error) {
		d := net.Dialer{Timeout: limit}
		return d.DialContext(ctx, "tcp", to.String())
	})
	if err != nil {
		return Outcome{Detail: netDetail(err, limit)}
	}
	conn.Close()
	return Outcome{OK: true, Detail: fmt.Sprintf("connected to %s in %s", to, roundRTT(time.Since(start)))}
}

// sendUDP sends a datagram to a connected UDP socket and waits: a reply
// passes; so does silence, since UDP cannot tell an open port that does not
// answer from a filtered one; an ICMP error (port or host unreachable)
// fails.
func sendUDP(ns netns.NsHandle, to netip.AddrPort, limit time.Duration) Outcome {
	conn, err := inNS(ns, func() (net.Conn, error) { return net.Dial("udp", to.String()) })
	if err != nil {
		return Outcome{Detail: netDetail(err, limit)}
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(limit))
	if _, err := conn.Write([]byte("netlab check\n")); err != nil {
		return Outcome{Detail: netDetail(err, limit)}
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	var ne net.Error
	switch {
	case err == nil:
		return Outcome{OK: true, Detail: fmt.Sprintf("a reply of %d bytes from %s", n, to)}
	case errors.As(err, &ne) && ne.Timeout():
		return Outcome{OK: true, Detail: fmt.Sprintf("no reply and no refusal from %s in %s (open, or filtered)", to, limit)}
	}
	return Outcome{Detail: netDetail(err, limit)}
}

var dnsTypes = map[string]dnsmessage.Type{"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA, "MX": dnsmessage.TypeMX}

var rcodeNames = map[dnsmessage.RCode]string{
	dnsmessage.RCodeFormatError: "FORMERR", dnsmessage.RCodeServerFailure: "SERVFAIL",
	dnsmessage.RCodeNameError: "NXDOMAIN", dnsmessage.RCodeNotImplemented: "NOTIMP", dnsmessage.RCodeRefused: "REFUSED",
}

// queryDNS asks server for name's records of type typ over UDP; it passes
// when there is an answer of that type, and if want is given, when one of
// the answers is among want.
func queryDNS(ns netns.NsHandle, server netip.AddrPort, name, typ string, want []string, limit time.Duration) Outcome {
	fqdn := name
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	qname, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return Outcome{Err: fmt.Errorf("name %q: %w", name, err)}
	}
	id := uint16(nextID())
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: qname, Type: dnsTypes[typ], Class: dnsmessage.ClassINET})
	query, err := b.Finish()
	if err != nil {
		return Outcome{Err: fmt.Errorf("build the query: %w", err)}
	}
	conn, err := inNS(ns, func() (net.Conn, error) { return net.Dial("udp", server.String()) })
	if err != nil {
		return Outcome{Detail: "server " + server.Addr().String() + ": " + netDetail(err, limit)}
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(limit))
	if _, err := conn.Write(query); err != nil {
		return Outcome{Detail: "server " + server.Addr().String() + ": " + netDetail(err, limit)}
	}
	buf := make([]byte, 4096)
	var m dnsmessage.Message
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return Outcome{Detail: "server " + server.Addr().String() + ": " + netDetail(err, limit)}
		}
		if m.Unpack(buf[:n]) == nil && m.ID == id && m.Response {
			break
		}
	}
	if m.RCode != dnsmessage.RCodeSuccess {
		rc, ok := rcodeNames[m.RCode]
		if !ok {
			rc = m.RCode.String()
		}
		return Outcome{Detail: fmt.Sprintf("%s from %s", rc, server.Addr())}
	}
	var got []string
	for _, a := range m.Answers {
		switch r := a.Body.(type) {
		case *dnsmessage.AResource:
			got = append(got, netip.AddrFrom4(r.A).String())
		case *dnsmessage.AAAAResource:
			got = append(got, netip.AddrFrom16(r.AAAA).String())
		case *dnsmessage.MXResource:
			got = append(got, strings.ToLower(r.MX.String()))
		}
	}
	if len(got) == 0 {
		return Outcome{Detail: fmt.Sprintf("no %s record for %s at %s", typ, name, server.Addr())}
	}
	answer := fmt.Sprintf("%s %s (from %s)", typ, strings.Join(got, ", "), server.Addr())
	if len(want) == 0 {
		return Outcome{OK: true, Detail: answer}
	}
	for _, g := range got {
		for _, w := range want {
			if g == w {
				return Outcome{OK: true, Detail: answer}
			}
		}
	}
	return Outcome{Detail: fmt.Sprintf("%s, want %s", answer, strings.Join(want, ", "))}
}

// getHTTP fetches url, connecting to addr (the URL's host as the lab
// resolves it) from inside the namespace. Redirects are not followed;
// certificates are not verified (labs make their own).
func getHTTP(ctx context.Context, ns netns.NsHandle, url string, addr netip.AddrPort, status int, contains string, limit time.Duration) Outcome {
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		// The transport dials on goroutines of its own: each dial enters the namespace itself.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return inNS(ns, func() (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", addr.String())
			})
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       limit,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Outcome{Err: err}
	}
	req.Header.Set("User-Agent", "netlab-check")
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return Outcome{Detail: netDetail(err, limit)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Outcome{Detail: fmt.Sprintf("%s, then reading the body: %s", resp.Status, netDetail(err, limit))}
	}
	got := fmt.Sprintf("%s, %d bytes", resp.Status, len(body))
	switch {
	case resp.StatusCode != status:
		return Outcome{Detail: fmt.Sprintf("%s, want status %d", got, status)}
	case contains != "" && !strings.Contains(string(body), contains):
		return Outcome{Detail: fmt.Sprintf("%s, without %q", got, contains)}
	}
	return Outcome{OK: true, Detail: got}
}

// hasRoute looks for a route to dst in the namespace's main table, through
// via if it is valid.
func hasRoute(ns netns.NsHandle, dst netip.Prefix, via netip.Addr) Outcome {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return Outcome{Err: fmt.Errorf("netlink in the node's namespace: %w", err)}
	}
	defer h.Close()
	family := netlink.FAMILY_V4
	if dst.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	routes, err := nldump.Retry(func() ([]netlink.Route, error) { return h.RouteList(nil, family) })
	if err != nil {
		return Outcome{Err: fmt.Errorf("list routes: %w", err)}
	}
	for _, r := range routes {
		d := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if dst.Addr().Is6() {
			d = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		if r.Dst != nil {
			var ok bool
			if d, ok = prefixOf(r.Dst); !ok {
				continue
			}
		}
		if d != dst {
			continue
		}
		var gws []string
		match := !via.IsValid()
		for _, gw := range append([]net.IP{r.Gw}, multipathGws(r)...) {
			if a, ok := netip.AddrFromSlice(gw); ok {
				gws = append(gws, a.Unmap().String())
				match = match || a.Unmap() == via
			}
		}
		desc := dst.String()
		if len(gws) > 0 {
			desc += " via " + strings.Join(gws, ", ")
		}
		if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
			desc += " dev " + l.Attrs().Name
		}
		if r.Protocol != 0 {
			desc += " proto " + r.Protocol.String()
		}
		if !match {
			return Outcome{Detail: fmt.Sprintf("%s, not via %s", desc, via)}
		}
		return Outcome{OK: true, Detail: desc}
	}
	return Outcome{Detail: fmt.Sprintf("no route to %s", dst)}
}

func multipathGws(r netlink.Route) []net.IP {
	var out []net.IP
	for _, nh := range r.MultiPath {
		out = append(out, nh.Gw)
	}
	return out
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// hasAddress checks that an interface has the address want, or (want
// invalid) that it is up.
func hasAddress(ns netns.NsHandle, ifname string, want netip.Prefix) Outcome {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return Outcome{Err: fmt.Errorf("netlink in the node's namespace: %w", err)}
	}
	defer h.Close()
	l, err := h.LinkByName(ifname)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return Outcome{Detail: fmt.Sprintf("no interface %s", ifname)}
	}
	if err != nil {
		return Outcome{Err: fmt.Errorf("find interface %s: %w", ifname, err)}
	}
	addrs, err := nldump.Retry(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		return Outcome{Err: fmt.Errorf("list addresses of %s: %w", ifname, err)}
	}
	up := l.Attrs().Flags&net.FlagUp != 0
	var have []string
	found := false
	for _, a := range addrs {
		p, ok := prefixOf(a.IPNet)
		if !ok || p.Addr().IsLinkLocalUnicast() {
			continue
		}
		have = append(have, p.String())
		found = found || p == want
	}
	desc := ifname
	if len(have) > 0 {
		desc += " " + strings.Join(have, ", ")
	} else {
		desc += " has no address"
	}
	if !up {
		desc += " (down)"
	}
	switch {
	case want.IsValid() && !found:
		return Outcome{Detail: fmt.Sprintf("%s, not %s", desc, want)}
	case !want.IsValid() && !up:
		return Outcome{Detail: desc}
	}
	return Outcome{OK: true, Detail: desc}
}

func roundRTT(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
