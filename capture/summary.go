package capture

import (
	"fmt"
	"strings"
)

// Summary is one line about a frame, in the manner of tcpdump -n: time,
// source > destination, protocol and what the protocol says, length.
//
//	15:04:05.000001 IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id 7, seq 0, length 64
//	15:04:05.000002 IP 10.1.1.1.40000 > 10.1.1.2.80: Flags [S], seq 1234, win 64240, length 0
//	15:04:05.000003 ARP, Request who-has 10.1.1.2 tell 10.1.1.1, length 28
//
// Lengths are tcpdump's: the payload of TCP and UDP, the whole message of
// ICMP and ARP, the frame otherwise. The frame is read by decode.go.
func Summary(data []byte, ci CaptureInfo, lt LinkType) string {
	return ci.Timestamp.Format("15:04:05.000000") + " " + describe(decodeFrame(data, lt), ci.Length)
}

func describe(f *decoded, frameLen int) string {
	switch {
	case f.arp != nil:
		return describeARP(f.arp)
	case f.ip != nil:
		return describeIP(f.ip)
	case f.eth != nil:
		return fmt.Sprintf("%s > %s, ethertype %s (0x%04x), length %d", f.eth.src, f.eth.dst, etherTypeName(f.eth.etherType), f.eth.etherType, frameLen)
	}
	return fmt.Sprintf("unknown frame, length %d", frameLen)
}

func describeARP(a *arp) string {
	length := 8 + 2*a.hwSize + 2*a.protoSize
	switch a.op {
	case 1:
		return fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", a.dstIP, a.srcIP, length)
	case 2:
		return fmt.Sprintf("ARP, Reply %s is-at %s, length %d", a.srcIP, a.srcMAC, length)
	}
	return fmt.Sprintf("ARP, operation %d, length %d", a.op, length)
}

func describeIP(ip *ipPacket) string {
	family := "IP"
	if ip.v6 {
		family = "IP6"
	}
	if ip.fragment {
		return fmt.Sprintf("%s %s > %s: %s fragment, length %d", family, ip.src, ip.dst, protoName(ip.proto), len(ip.payload))
	}
	switch {
	case ip.tcp != nil:
		return fmt.Sprintf("%s %s.%d > %s.%d: %s", family, ip.src, ip.tcp.srcPort, ip.dst, ip.tcp.dstPort, describeTCP(ip.tcp))
	case ip.udp != nil:
		return fmt.Sprintf("%s %s.%d > %s.%d: UDP, length %d", family, ip.src, ip.udp.srcPort, ip.dst, ip.udp.dstPort, ip.udp.payload)
	case ip.icmp != nil && !ip.v6:
		return fmt.Sprintf("%s %s > %s: ICMP %s, length %d", family, ip.src, ip.dst, describeICMPv4(ip.icmp), len(ip.payload))
	case ip.icmp != nil:
		return fmt.Sprintf("%s %s > %s: ICMP6, %s, length %d", family, ip.src, ip.dst, describeICMPv6(ip.icmp), len(ip.payload))
	}
	return fmt.Sprintf("%s %s > %s: %s, length %d", family, ip.src, ip.dst, protoName(ip.proto), len(ip.payload))
}

// protoName is the protocol's name, as tcpdump has it, or ip-proto-N.
func protoName(proto uint8) string {
	switch proto {
	case protoICMP:
		return "ICMP"
	case protoICMPv6:
		return "ICMP6"
	case protoTCP:
		return "TCP"
	case protoUDP:
		return "UDP"
	case 2:
		return "IGMP"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 51:
		return "AH"
	case 89:
		return "OSPF"
	case 112:
		return "VRRP"
	case 132:
		return "SCTP"
	}
	return fmt.Sprintf("ip-proto-%d", proto)
}

// etherTypeName names the EtherTypes a lab's links carry besides ARP and
// IP, or says it is unknown.
func etherTypeName(t uint16) string {
	switch t {
	case 0:
		return "LLC" // an 802.3 frame: a length, not a type (STP's BPDUs)
	case 0x0800:
		return "IPv4"
	case 0x0806:
		return "ARP"
	case 0x86dd:
		return "IPv6"
	case 0x8100:
		return "Dot1Q"
	case 0x88a8:
		return "QinQ"
	case 0x8847:
		return "MPLSUnicast"
	case 0x8848:
		return "MPLSMulticast"
	case 0x888e:
		return "EAPOL"
	case 0x88cc:
		return "LinkLayerDiscovery"
	case 0x6558:
		return "TransparentEthernetBridging"
	case 0x8863:
		return "PPPoEDiscovery"
	case 0x8864:
		return "PPPoESession"
	case 0x9000:
		return "EthernetCTP"
	}
	return "UnknownEthernetType"
}

func describeTCP(t *tcp) string {
	var flags strings.Builder
	for _, f := range []struct {
		bit uint8
		c   byte
	}{{tcpFIN, 'F'}, {tcpSYN, 'S'}, {tcpRST, 'R'}, {tcpPSH, 'P'}, {tcpURG, 'U'}, {tcpECE, 'E'}, {tcpCWR, 'W'}, {tcpACK, '.'}} {
		if t.flags&f.bit != 0 {
			flags.WriteByte(f.c)
		}
	}
	if flags.Len() == 0 {
		flags.WriteString("none")
	}
	s := fmt.Sprintf("Flags [%s]", flags.String())
	// Sequence numbers are absolute (tcpdump -S); a bare ACK has none.
	if t.payload > 0 {
		s += fmt.Sprintf(", seq %d:%d", t.seq, t.seq+uint32(t.payload))
	} else if t.flags&(tcpSYN|tcpFIN|tcpRST) != 0 {
		s += fmt.Sprintf(", seq %d", t.seq)
	}
	if t.flags&tcpACK != 0 {
		s += fmt.Sprintf(", ack %d", t.ack)
	}
	return s + fmt.Sprintf(", win %d, length %d", t.window, t.payload)
}

var unreachable = map[uint8]string{
	0: "net", 1: "host", 2: "protocol", 3: "port", 4: "need to frag",
	9: "net administratively prohibited", 10: "host administratively prohibited",
	13: "administratively prohibited",
}

func describeICMPv4(c *icmp) string {
	switch c.typ {
	case 8:
		return fmt.Sprintf("echo request, id %d, seq %d", c.id, c.seq)
	case 0:
		return fmt.Sprintf("echo reply, id %d, seq %d", c.id, c.seq)
	case 3:
		what, ok := unreachable[c.code]
		if !ok {
			what = fmt.Sprintf("code %d", c.code)
		}
		return what + " unreachable"
	case 11:
		if c.code == 0 {
			return "time exceeded in-transit"
		}
		return "time exceeded in reassembly"
	case 5:
		return "redirect"
	}
	return fmt.Sprintf("type %d, code %d", c.typ, c.code)
}

func describeICMPv6(c *icmp) string {
	switch c.typ {
	case 128, 129:
		what := "echo request"
		if c.typ == 129 {
			what = "echo reply"
		}
		if c.echo {
			return fmt.Sprintf("%s, id %d, seq %d", what, c.id, c.seq)
		}
		return what
	case 135:
		if c.target != nil {
			return "neighbor solicitation, who has " + c.target.String()
		}
		return "neighbor solicitation"
	case 136:
		if c.target != nil {
			return "neighbor advertisement, tgt is " + c.target.String()
		}
		return "neighbor advertisement"
	case 133:
		return "router solicitation"
	case 134:
		return "router advertisement"
	case 1:
		return "destination unreachable"
	case 3:
		return "time exceeded in-transit"
	case 2:
		return "packet too big"
	case 143:
		return "multicast listener report v2"
	}
	return fmt.Sprintf("type %d, code %d", c.typ, c.code)
}
