package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/netlab/netlab/spec"
)

// The probes against the real kernel, in throwaway namespaces (root only):
//
//	a (10.9.1.2, fd09:1::2) ── r (router) ── b (10.9.2.2, fd09:2::2)
//
// b serves HTTP on 80, UDP echo on 7 and DNS on 53.

// testNodes maps node names to named namespaces (ip netns).
type testNodes struct {
	ns    map[string]string
	files map[string]string // node:path -> content
}

func (n *testNodes) NetNS(_ context.Context, node string) (netns.NsHandle, error) {
	name, ok := n.ns[node]
	if !ok {
		return netns.None(), fmt.Errorf("node %s is not running", node)
	}
	return netns.GetFromName(name)
}

func (n *testNodes) ReadFile(_ context.Context, node, path string) ([]byte, error) {
	if s, ok := n.files[node+":"+path]; ok {
		return []byte(s), nil
	}
	return nil, os.ErrNotExist
}

func (n *testNodes) Exec(ctx context.Context, node, cmd string) ([]byte, int, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", n.ns[node], "sh", "-c", cmd).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return out, ee.ExitCode(), nil
	}
	return out, 0, err
}

func sh(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if out, err := exec.Command("sh", "-c", c).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
}

// topology makes the three namespaces and starts b's servers.
func topology(t *testing.T) *testNodes {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes network namespaces")
	}
	id := os.Getpid() % 100000
	a, r, b := fmt.Sprintf("ckA%d", id), fmt.Sprintf("ckR%d", id), fmt.Sprintf("ckB%d", id)
	t.Cleanup(func() {
		for _, n := range []string{a, r, b} {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	sh(t,
		"ip netns add "+a, "ip netns add "+r, "ip netns add "+b,
		// No duplicate address detection: IPv6 works at once.
		"for n in "+a+" "+r+" "+b+"; do ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done",
		"ip link add a0 netns "+a+" type veth peer name r0 netns "+r,
		"ip link add b0 netns "+b+" type veth peer name r1 netns "+r,
		"ip -n "+a+" addr add 10.9.1.2/24 dev a0", "ip -n "+a+" addr add fd09:1::2/64 dev a0 nodad",
		"ip -n "+r+" addr add 10.9.1.1/24 dev r0", "ip -n "+r+" addr add fd09:1::1/64 dev r0 nodad",
		"ip -n "+r+" addr add 10.9.2.1/24 dev r1", "ip -n "+r+" addr add fd09:2::1/64 dev r1 nodad",
		"ip -n "+b+" addr add 10.9.2.2/24 dev b0", "ip -n "+b+" addr add fd09:2::2/64 dev b0 nodad",
		"for n in "+a+" "+r+" "+b+"; do ip -n $n link set lo up; done",
		"ip -n "+a+" link set a0 up", "ip -n "+r+" link set r0 up", "ip -n "+r+" link set r1 up", "ip -n "+b+" link set b0 up",
		// Routers answer a burst of ICMP errors, then one a second: too
		// few for all these probes at once. IPv4 is unlimited by its
		// mask, not icmp_ratelimit=0: with a zero rate, each time exceeded
		// sent empties the bucket that a "no route" unreachable (ip_error)
		// draws on, and the next unreachable is dropped.
		"ip netns exec "+r+" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratelimit=0",
		"ip -n "+a+" route add default via 10.9.1.1", "ip -n "+a+" -6 route add default via fd09:1::1",
		"ip -n "+b+" route add default via 10.9.2.1", "ip -n "+b+" -6 route add default via fd09:2::1",
		// The first IPv6 neighbour resolutions take about a second here.
		"ip netns exec "+a+" ping -c 1 -W 3 fd09:2::2 >/dev/null",
	)
	nodes := &testNodes{ns: map[string]string{"a": a, "r": r, "b": b}, files: map[string]string{"a:/etc/resolv.conf": "nameserver 10.9.2.2\n"}}
	bns, err := netns.GetFromName(b)
	if err != nil {
		t.Fatal(err)
	}
	defer bns.Close()
	listen := func(network, addr string) any {
		v, err := inNS(bns, func() (any, error) {
			if strings.HasPrefix(network, "udp") {
				return net.ListenPacket(network, addr)
			}
			return net.Listen(network, addr)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.(interface{ Close() error }).Close() })
		return v
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello from b") })
	go http.Serve(listen("tcp", ":80").(net.Listener), mux)
	echo := listen("udp", ":7").(net.PacketConn)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(buf[:n], from)
		}
	}()
	go serveDNS(listen("udp", ":53").(net.PacketConn))
	return nodes
}

// serveDNS answers www.lab A 10.9.2.2 and lab MX mail.lab; other names do
// not exist.
func serveDNS(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case q.Name.String() == "www.lab." && q.Type == dnsmessage.TypeA:
			b.AResource(rh, dnsmessage.AResource{A: [4]byte{10, 9, 2, 2}})
		case q.Name.String() == "lab." && q.Type == dnsmessage.TypeMX:
			b.MXResource(rh, dnsmessage.MXResource{Pref: 10, MX: dnsmessage.MustNewName("mail.lab.")})
		case q.Name.String() != "www.lab." && q.Name.String() != "lab.":
			b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			b.StartQuestions()
			b.Question(q)
		}
		msg, _ := b.Finish()
		pc.WriteTo(msg, from)
	}
}

func TestProbes(t *testing.T) {
	nodes := topology(t)
	addr := netip.MustParseAddr
	// Answers come in milliseconds; the limit spares a loaded machine (CI
	// runs the end-to-end tests beside this one) a false failure.
	ms := 2 * time.Second
	cases := []struct {
		check  spec.Check
		ok     bool
		isErr  bool
		detail string // a regular expression
	}{
		{spec.Check{Probe: "ping", Node: "a", Addr: addr("10.9.2.2"), Count: 1, Limit: ms}, true, false, `^reply from 10\.9\.2\.2 in `},
		{spec.Check{Probe: "ping", Node: "a", Addr: addr("fd09:2::2"), Count: 2, Limit: ms}, true, false, `^2/2 replies from fd09:2::2, `},
		{spec.Check{Probe: "ping", Node: "a", Addr: addr("10.9.2.99"), Count: 1, Limit: ms}, false, false, `^no reply from 10\.9\.2\.99 in 2s$`},
		{spec.Check{Probe: "ping", Node: "a", Addr: addr("10.9.3.1"), Count: 1, Limit: ms}, false, false, `^10\.9\.1\.1: network unreachable$`},
		{spec.Check{Probe: "ping", Node: "nosuch", Addr: addr("10.9.2.2"), Count: 1, Limit: ms}, false, true, `not running`},
		{spec.Check{Probe: "tcp", Node: "a", Addr: addr("10.9.2.2"), Port: 80, Limit: ms}, true, false, `^connected to 10\.9\.2\.2:80 in `},
		{spec.Check{Probe: "tcp", Node: "a", Addr: addr("fd09:2::2"), Port: 80, Limit: ms}, true, false, `^connected to \[fd09:2::2\]:80 in `},
		{spec.Check{Probe: "tcp", Node: "a", Addr: addr("10.9.2.2"), Port: 81, Limit: ms}, false, false, `^refused`},
		{spec.Check{Probe: "udp", Node: "a", Addr: addr("10.9.2.2"), Port: 7, Limit: ms}, true, false, `^a reply of 13 bytes from 10\.9\.2\.2:7$`},
		{spec.Check{Probe: "udp", Node: "a", Addr: addr("10.9.2.2"), Port: 9, Limit: ms}, false, false, `^refused`},
		{spec.Check{Probe: "dns", Node: "a", DNS: "www.lab", Type: "A", Addr: addr("10.9.2.2"), Answers: []string{"10.9.2.2"}, Limit: ms}, true, false, `^A 10\.9\.2\.2 \(from 10\.9\.2\.2\)$`},
		{spec.Check{Probe: "dns", Node: "a", DNS: "www.lab", Type: "A", Answers: []string{"10.9.2.3"}, Limit: ms}, false, false, `^A 10\.9\.2\.2 \(from 10\.9\.2\.2\), want 10\.9\.2\.3$`},
		{spec.Check{Probe: "dns", Node: "a", DNS: "lab", Type: "MX", Answers: []string{"mail.lab."}, Limit: ms}, true, false, `^MX mail\.lab\. `},
		{spec.Check{Probe: "dns", Node: "a", DNS: "www.lab", Type: "AAAA", Limit: ms}, false, false, `^no AAAA record for www\.lab`},
		{spec.Check{Probe: "dns", Node: "a", DNS: "nosuch.lab", Type: "A", Limit: ms}, false, false, `^NXDOMAIN from 10\.9\.2\.2$`},
		{spec.Check{Probe: "dns", Node: "r", DNS: "www.lab", Type: "A", Limit: ms}, false, true, `resolv\.conf`},
		{spec.Check{Probe: "http", Node: "a", HTTP: "http://b/", Addr: addr("10.9.2.2"), Port: 80, Status: 200, Contains: "hello", Limit: ms}, true, false, `^200 OK, 13 bytes$`},
		{spec.Check{Probe: "http", Node: "a", HTTP: "http://b/x", Addr: addr("10.9.2.2"), Port: 80, Status: 200, Limit: ms}, false, false, `^404 Not Found, .* want status 200$`},
		{spec.Check{Probe: "http", Node: "a", HTTP: "http://b/", Addr: addr("10.9.2.2"), Port: 80, Status: 200, Contains: "bye", Limit: ms}, false, false, `without "bye"$`},
		{spec.Check{Probe: "path", Node: "a", Addr: addr("10.9.2.2"), Hops: [][]netip.Addr{{addr("10.9.1.1")}}, Limit: time.Second}, true, false, `^hops 10\.9\.1\.1 10\.9\.2\.2$`},
		{spec.Check{Probe: "path", Node: "a", Addr: addr("fd09:2::2"), Hops: [][]netip.Addr{{addr("fd09:1::1")}, {addr("fd09:2::2")}}, Limit: time.Second}, true, false, `^hops fd09:1::1 fd09:2::2$`},
		{spec.Check{Probe: "path", Node: "a", Addr: addr("10.9.2.2"), Hops: [][]netip.Addr{{addr("10.9.2.2")}, {addr("10.9.1.1")}}, Limit: time.Second}, false, false, `10\.9\.1\.1 does not come after 10\.9\.2\.2$`},
		{spec.Check{Probe: "path", Node: "a", Addr: addr("10.9.3.1"), Limit: time.Second}, false, false, `^did not reach 10\.9\.3\.1 \(10\.9\.1\.1: network unreachable\)`},
		{spec.Check{Probe: "route", Node: "a", Prefix: netip.MustParsePrefix("0.0.0.0/0"), Nexthop: addr("10.9.1.1")}, true, false, `^0\.0\.0\.0/0 via 10\.9\.1\.1 dev a0`},
		{spec.Check{Probe: "route", Node: "a", Prefix: netip.MustParsePrefix("::/0"), Nexthop: addr("fd09:1::1")}, true, false, `^::/0 via fd09:1::1 dev a0`},
		{spec.Check{Probe: "route", Node: "a", Prefix: netip.MustParsePrefix("0.0.0.0/0"), Nexthop: addr("10.9.1.7")}, false, false, `, not via 10\.9\.1\.7$`},
		{spec.Check{Probe: "route", Node: "r", Prefix: netip.MustParsePrefix("10.9.2.0/24")}, true, false, `^10\.9\.2\.0/24 dev r1 proto kernel$`},
		{spec.Check{Probe: "route", Node: "a", Prefix: netip.MustParsePrefix("10.9.2.0/24")}, false, false, `^no route to 10\.9\.2\.0/24$`},
		{spec.Check{Probe: "address", Node: "a", Address: "a0", Prefix: netip.MustParsePrefix("10.9.1.2/24")}, true, false, `^a0 10\.9\.1\.2/24, fd09:1::2/64$`},
		{spec.Check{Probe: "address", Node: "a", Address: "a0", Prefix: netip.MustParsePrefix("10.9.1.3/24")}, false, false, `, not 10\.9\.1\.3/24$`},
		{spec.Check{Probe: "address", Node: "a", Address: "a0"}, true, false, `^a0 `},
		{spec.Check{Probe: "address", Node: "a", Address: "eth7"}, false, false, `^no interface eth7$`},
		{spec.Check{Probe: "run", Node: "a", Run: "echo hi; exit 3", ExitCode: 3, OutputRe: regexp.MustCompile("^hi"), Limit: 5 * time.Second}, true, false, `^exit 3: hi$`},
		{spec.Check{Probe: "run", Node: "a", Run: "ip -o addr show a0", OutputRe: regexp.MustCompile(`10\.9\.1\.2`), Limit: 5 * time.Second}, true, false, `^exit 0`},
		{spec.Check{Probe: "run", Node: "a", Run: "echo hi", ExitCode: 1, Limit: 5 * time.Second}, false, false, `^exit 0, want 1: hi$`},
		{spec.Check{Probe: "run", Node: "a", Run: "echo bye", OutputRe: regexp.MustCompile("hi"), Limit: 5 * time.Second}, false, false, `does not match /hi/: bye$`},
		{spec.Check{Probe: "run", Node: "a", Run: "sleep 5", Limit: 200 * time.Millisecond}, false, false, `^did not finish in 200ms$`},
	}
	list := make([]*spec.Check, len(cases))
	for i := range cases {
		c := &cases[i].check
		c.Name = fmt.Sprintf("%d %s %s", i, c.Probe, c.Node)
		list[i] = c
	}
	// All at once, as netlab check runs them: probes from one node must not
	// take each other's replies.
	results := Run(context.Background(), list, &NetProber{Nodes: nodes}, Options{Workers: 8})
	for i, r := range results {
		want := cases[i]
		if r.Passed != want.ok || r.Error != want.isErr || !regexp.MustCompile(want.detail).MatchString(r.Detail) {
			t.Errorf("%s: passed %v error %v detail %q; want passed %v error %v detail /%s/", r.Name, r.Passed, r.Error, r.Detail, want.ok, want.isErr, want.detail)
		}
	}

	// No thread of this process was left in a node's namespace.
	host, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	leaked := 0
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cur, err := netns.Get()
			if err == nil {
				if !cur.Equal(host) {
					mu.Lock()
					leaked++
					mu.Unlock()
				}
				cur.Close()
			}
			time.Sleep(5 * time.Millisecond)
		}()
	}
	wg.Wait()
	if leaked > 0 {
		t.Errorf("%d threads are in another network namespace", leaked)
	}
}
