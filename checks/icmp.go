package checks

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// lastID numbers echo requests and DNS queries: every probe of this
// process has its own ICMP identifier, so that probes from one node at
// once (each raw socket sees every ICMP message of the namespace) tell
// their replies apart.
var lastID atomic.Uint32

func init() { lastID.Store(uint32(os.Getpid()) << 4) }

func nextID() int { return int(lastID.Add(1) & 0xffff) }

// pinger sends ICMP echo requests from a raw socket in a namespace.
type pinger struct {
	conn *icmp.PacketConn
	dst  netip.Addr
	id   int
}

func openPinger(ns netns.NsHandle, dst netip.Addr) (*pinger, error) {
	network, local := "ip4:icmp", "0.0.0.0"
	if dst.Is6() {
		network, local = "ip6:ipv6-icmp", "::"
	}
	conn, err := inNS(ns, func() (*icmp.PacketConn, error) { return icmp.ListenPacket(network, local) })
	if err != nil {
		return nil, fmt.Errorf("open an ICMP socket in the node's namespace: %w", err)
	}
	return &pinger{conn: conn, dst: dst, id: nextID()}, nil
}

func (p *pinger) Close() { p.conn.Close() }

// send sends echo request seq; ttl > 0 sets the packet's TTL (hop limit).
func (p *pinger) send(seq, ttl int) error {
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if p.dst.Is6() {
		typ = ipv6.ICMPTypeEchoRequest
	}
	if ttl > 0 {
		var err error
		if p.dst.Is6() {
			err = p.conn.IPv6PacketConn().SetHopLimit(ttl)
		} else {
			err = p.conn.IPv4PacketConn().SetTTL(ttl)
		}
		if err != nil {
			return err
		}
	}
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: p.id, Seq: seq, Data: []byte("netlab check")}}
	b, err := msg.Marshal(nil) // the kernel sums ICMPv6 itself
	if err != nil {
		return err
	}
	_, err = p.conn.WriteTo(b, &net.IPAddr{IP: p.dst.AsSlice()})
	return err
}

// What came back for an echo request.
type answerKind int

const (
	noAnswer     answerKind = iota
	echoReply               // from the destination
	timeExceeded            // from a router on the way (TTL ran out)
	unreachable             // from a router or the destination: destination unreachable
)

type answer struct {
	kind answerKind
	from netip.Addr
	code int // of unreachable
}

// wait reads until the answer to echo request seq arrives or deadline
// (answers to this pinger's other requests, late ones, are passed over).
func (p *pinger) wait(seq int, deadline time.Time) (answer, error) {
	for {
		s, a, err := p.waitAny(p.dst.Is6(), deadline)
		if err != nil || a.kind == noAnswer || s == seq {
			return a, err
		}
	}
}

// unreachableWhy names an ICMP destination unreachable code.
func unreachableWhy(v6 bool, code int) string {
	if v6 {
		switch code {
		case 0:
			return "no route to the destination"
		case 1, 5, 6:
			return "administratively prohibited (a firewall rejects)"
		case 3:
			return "address unreachable"
		case 4:
			return "port unreachable"
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	}
	switch code {
	case 0, 6:
		return "network unreachable"
	case 1, 7:
		return "host unreachable"
	case 3:
		return "port unreachable"
	case 9, 10, 13:
		return "administratively prohibited (a firewall rejects)"
	}
	return fmt.Sprintf("destination unreachable (code %d)", code)
}

// ping sends count echo requests, one at a time, each waiting up to limit
// for its reply; one reply passes.
func ping(ns netns.NsHandle, dst netip.Addr, count int, limit time.Duration) Outcome {
	p, err := openPinger(ns, dst)
	if err != nil {
		return Outcome{Err: err}
	}
	defer p.Close()
	replies := 0
	var rtts []time.Duration
	var last string
	for seq := 1; seq <= count; seq++ {
		start := time.Now()
		if err := p.send(seq, 0); err != nil {
			last = netDetail(err, limit)
			continue
		}
		a, err := p.wait(seq, start.Add(limit))
		if err != nil {
			return Outcome{Err: fmt.Errorf("read ICMP: %w", err)}
		}
		switch a.kind {
		case echoReply:
			replies++
			rtts = append(rtts, time.Since(start))
		case unreachable:
			last = fmt.Sprintf("%s: %s", a.from, unreachableWhy(dst.Is6(), a.code))
		case noAnswer:
			last = fmt.Sprintf("no reply from %s in %s", dst, limit)
		}
	}
	if replies == 0 {
		if count > 1 {
			last = fmt.Sprintf("0/%d replies; %s", count, last)
		}
		return Outcome{Detail: last}
	}
	if count == 1 {
		return Outcome{OK: true, Detail: fmt.Sprintf("reply from %s in %s", dst, roundRTT(rtts[0]))}
	}
	var sum time.Duration
	for _, r := range rtts {
		sum += r
	}
	return Outcome{OK: true, Detail: fmt.Sprintf("%d/%d replies from %s, %s on average", replies, count, dst, roundRTT(sum/time.Duration(len(rtts))))}
}

// maxHops bounds a trace; silentHops ends one early, after that many hops
// in a row that did not answer (each is tried twice).
const (
	maxHops    = 30
	silentHops = 2
)

// tracePath sends echo requests with growing TTLs (limit per try of a hop) and
// collects who answers: the routers on the way, then the destination. It
// passes when the destination answers and the hops include an address of
// each of vias, in order.
func tracePath(ns netns.NsHandle, dst netip.Addr, vias [][]netip.Addr, limit time.Duration) Outcome {
	p, err := openPinger(ns, dst)
	if err != nil {
		return Outcome{Err: err}
	}
	defer p.Close()
	var hops []netip.Addr // invalid: a hop that did not answer
	var words []string
	reached, silent := false, 0
	why := ""
	for ttl := 1; ttl <= maxHops && !reached && why == "" && silent < silentHops; ttl++ {
		// Twice per hop: routers send ICMP errors at about one a second
		// after a short burst (the kernel's rate limit).
		var a answer
		for try := 0; try < 2 && a.kind == noAnswer && why == ""; try++ {
			seq := ttl + try*maxHops
			if err := p.send(seq, ttl); err != nil {
				why = netDetail(err, limit)
				break
			}
			if a, err = p.wait(seq, time.Now().Add(limit)); err != nil {
				return Outcome{Err: fmt.Errorf("read ICMP: %w", err)}
			}
		}
		if why != "" {
			break
		}
		hops = append(hops, a.from)
		switch a.kind {
		case noAnswer:
			silent++
			words = append(words, "*")
			continue
		case echoReply:
			reached = true
		case unreachable:
			why = fmt.Sprintf("%s: %s", a.from, unreachableWhy(dst.Is6(), a.code))
		}
		silent = 0
		words = append(words, a.from.String())
	}
	trace := "hops " + strings.Join(words, " ")
	if len(words) == 0 {
		trace = "no hops"
	}
	if !reached {
		if why == "" {
			why = fmt.Sprintf("no answer from hop %d on", len(hops)-silent+1)
		}
		return Outcome{Detail: fmt.Sprintf("did not reach %s (%s); %s", dst, why, trace)}
	}
	j := 0
	for _, h := range hops {
		if j < len(vias) && slices.Contains(vias[j], h) {
			j++
		}
	}
	switch {
	case j < len(vias) && j == 0:
		return Outcome{Detail: fmt.Sprintf("%s; %s is not among them", trace, addrList(vias[j]))}
	case j < len(vias):
		return Outcome{Detail: fmt.Sprintf("%s; %s does not come after %s", trace, addrList(vias[j]), addrList(vias[j-1]))}
	}
	return Outcome{OK: true, Detail: trace}
}

func addrList(l []netip.Addr) string {
	s := make([]string, len(l))
	for i, a := range l {
		s[i] = a.String()
	}
	return strings.Join(s, " or ")
}
