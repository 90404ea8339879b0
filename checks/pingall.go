package checks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// pingAll sends one echo request to each of addrs (all of one family) from
// one raw socket in ns, all at once, numbered by their place (seq 1, 2,
// ...), and reads until each has its answer or limit has passed. One
// socket, not one per address: every raw ICMP socket of a namespace sees
// every ICMP message that arrives there, and each socket costs a thread
// that enters the namespace (inNS), so the connectivity matrix's 29
// destinations a source were 29 threads and 29×29 wake-ups a round.
func pingAll(ns netns.NsHandle, addrs []netip.Addr, limit time.Duration) []Outcome {
	out := make([]Outcome, len(addrs))
	p, err := openPinger(ns, addrs[0])
	if err != nil {
		for i := range out {
			out[i] = Outcome{Err: err}
		}
		return out
	}
	defer p.Close()
	start := time.Now()
	left := 0
	for i, a := range addrs {
		out[i] = Outcome{Detail: fmt.Sprintf("no reply from %s in %s", a, limit)}
		p.dst = a
		if err := p.send(i+1, 0); err != nil {
			out[i].Detail = netDetail(err, limit)
			continue
		}
		left++
	}
	done := make([]bool, len(addrs))
	v6 := addrs[0].Is6()
	for left > 0 {
		seq, a, err := p.waitAny(v6, start.Add(limit))
		if err != nil {
			for i := range out {
				if !done[i] {
					out[i] = Outcome{Err: fmt.Errorf("read ICMP: %w", err)}
				}
			}
			return out
		}
		if a.kind == noAnswer {
			break
		}
		i := seq - 1
		if i < 0 || i >= len(addrs) || done[i] {
			continue
		}
		done[i], left = true, left-1
		switch a.kind {
		case echoReply:
			out[i] = Outcome{OK: true, Detail: fmt.Sprintf("reply from %s in %s", addrs[i], roundRTT(time.Since(start)))}
		case unreachable:
			out[i] = Outcome{Detail: fmt.Sprintf("%s: %s", a.from, unreachableWhy(v6, a.code))}
		default: // time exceeded: a loop on the way
			out[i] = Outcome{Detail: fmt.Sprintf("%s: time exceeded on the way to %s", a.from, addrs[i])}
		}
	}
	return out
}

// waitAny reads until an answer to one of this pinger's echo requests
// (its identifier, any sequence number) arrives, or deadline: the answer
// and the request's sequence number (noAnswer at the deadline).
func (p *pinger) waitAny(v6 bool, deadline time.Time) (int, answer, error) {
	proto := 1
	if v6 {
		proto = 58
	}
	if err := p.conn.SetReadDeadline(deadline); err != nil {
		return 0, answer{}, err
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := p.conn.ReadFrom(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, answer{}, nil
		}
		if err != nil {
			return 0, answer{}, err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		var from netip.Addr
		if ip, ok := peer.(*net.IPAddr); ok {
			from, _ = netip.AddrFromSlice(ip.IP)
			from = from.Unmap()
		}
		switch body := m.Body.(type) {
		case *icmp.Echo:
			if (m.Type == ipv4.ICMPTypeEchoReply || m.Type == ipv6.ICMPTypeEchoReply) && body.ID == p.id {
				return body.Seq, answer{kind: echoReply, from: from}, nil
			}
		case *icmp.TimeExceeded:
			if seq, ok := p.quoted(v6, body.Data); ok {
				return seq, answer{kind: timeExceeded, from: from}, nil
			}
		case *icmp.DstUnreach:
			if seq, ok := p.quoted(v6, body.Data); ok {
				return seq, answer{kind: unreachable, from: from, code: m.Code}, nil
			}
		}
	}
}

// quoted is the sequence number of the echo request of this pinger that
// an ICMP error's payload quotes, if it quotes one.
func (p *pinger) quoted(v6 bool, data []byte) (int, bool) {
	var echo []byte
	if v6 {
		if len(data) < 48 || data[6] != 58 {
			return 0, false
		}
		echo = data[40:]
		if echo[0] != byte(ipv6.ICMPTypeEchoRequest) {
			return 0, false
		}
	} else {
		if len(data) < 20 {
			return 0, false
		}
		ihl := int(data[0]&0x0f) * 4
		if len(data) < ihl+8 || data[9] != 1 {
			return 0, false
		}
		echo = data[ihl:]
		if echo[0] != byte(ipv4.ICMPTypeEcho) {
			return 0, false
		}
	}
	if int(binary.BigEndian.Uint16(echo[4:6])) != p.id {
		return 0, false
	}
	return int(binary.BigEndian.Uint16(echo[6:8])), true
}
