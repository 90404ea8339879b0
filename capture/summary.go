package capture

import (
	"fmt"
	"net"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Summary is one line about a frame, in the manner of tcpdump -n: time,
// source > destination, protocol and what the protocol says, length.
//
//	15:04:05.000001 IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id 7, seq 0, length 64
//	15:04:05.000002 IP 10.1.1.1.40000 > 10.1.1.2.80: Flags [S], seq 1234, win 64240, length 0
//	15:04:05.000003 ARP, Request who-has 10.1.1.2 tell 10.1.1.1, length 28
//
// Lengths are tcpdump's: the payload of TCP and UDP, the whole message of
// ICMP and ARP, the frame otherwise.
func Summary(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) string {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	return ci.Timestamp.Format("15:04:05.000000") + " " + describe(p, ci.Length)
}

func describe(p gopacket.Packet, frameLen int) string {
	if l, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		return describeARP(l)
	}
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		return describeIP(p, "IP", ip.SrcIP, ip.DstIP, ip.Protocol, len(ip.Payload), ip.FragOffset != 0)
	}
	if ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		proto, payload := upperIPv6(p, ip)
		frag := false
		if f, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
			proto, frag = f.NextHeader, f.FragmentOffset != 0
		}
		return describeIP(p, "IP6", ip.SrcIP, ip.DstIP, proto, payload, frag)
	}
	if eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		return fmt.Sprintf("%s > %s, ethertype %s (0x%04x), length %d", eth.SrcMAC, eth.DstMAC, eth.EthernetType, uint16(eth.EthernetType), frameLen)
	}
	return fmt.Sprintf("unknown frame, length %d", frameLen)
}

// upperIPv6 is the protocol after the hop-by-hop and destination options
// headers (MLD reports carry one), and the length of what follows them.
func upperIPv6(p gopacket.Packet, ip *layers.IPv6) (layers.IPProtocol, int) {
	proto, payload := ip.NextHeader, len(ip.Payload)
	for _, l := range p.Layers() {
		switch e := l.(type) {
		case *layers.IPv6HopByHop:
			proto, payload = e.NextHeader, len(e.Payload)
		case *layers.IPv6Destination:
			proto, payload = e.NextHeader, len(e.Payload)
		}
	}
	return proto, payload
}

func describeARP(a *layers.ARP) string {
	length := 8 + 2*int(a.HwAddressSize) + 2*int(a.ProtAddressSize)
	src, dst := net.IP(a.SourceProtAddress), net.IP(a.DstProtAddress)
	switch a.Operation {
	case layers.ARPRequest:
		return fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", dst, src, length)
	case layers.ARPReply:
		return fmt.Sprintf("ARP, Reply %s is-at %s, length %d", src, net.HardwareAddr(a.SourceHwAddress), length)
	}
	return fmt.Sprintf("ARP, operation %d, length %d", a.Operation, length)
}

func describeIP(p gopacket.Packet, family string, src, dst net.IP, proto layers.IPProtocol, payload int, fragment bool) string {
	if fragment {
		return fmt.Sprintf("%s %s > %s: %s fragment, length %d", family, src, dst, protoName(proto), payload)
	}
	switch proto {
	case layers.IPProtocolTCP:
		if t, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			return fmt.Sprintf("%s %s.%d > %s.%d: %s", family, src, t.SrcPort, dst, t.DstPort, describeTCP(t))
		}
	case layers.IPProtocolUDP:
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			return fmt.Sprintf("%s %s.%d > %s.%d: UDP, length %d", family, src, u.SrcPort, dst, u.DstPort, len(u.Payload))
		}
	case layers.IPProtocolICMPv4:
		if c, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
			return fmt.Sprintf("%s %s > %s: ICMP %s, length %d", family, src, dst, describeICMPv4(c), payload)
		}
	case layers.IPProtocolICMPv6:
		if c, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
			return fmt.Sprintf("%s %s > %s: ICMP6, %s, length %d", family, src, dst, describeICMPv6(p, c), payload)
		}
	}
	return fmt.Sprintf("%s %s > %s: %s, length %d", family, src, dst, protoName(proto), payload)
}

// protoName is the protocol's name, as tcpdump has it, or ip-proto-N.
func protoName(proto layers.IPProtocol) string {
	switch proto {
	case layers.IPProtocolICMPv4:
		return "ICMP"
	case layers.IPProtocolICMPv6:
		return "ICMP6"
	case layers.IPProtocolOSPF:
		return "OSPF"
	case layers.IPProtocolIGMP:
		return "IGMP"
	case layers.IPProtocolVRRP:
		return "VRRP"
	case layers.IPProtocolTCP, layers.IPProtocolUDP, layers.IPProtocolGRE, layers.IPProtocolESP, layers.IPProtocolAH, layers.IPProtocolSCTP:
		return proto.String()
	}
	return fmt.Sprintf("ip-proto-%d", uint8(proto))
}

func describeTCP(t *layers.TCP) string {
	var flags strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'W'}, {t.ACK, '.'}} {
		if f.on {
			flags.WriteByte(f.c)
		}
	}
	if flags.Len() == 0 {
		flags.WriteString("none")
	}
	s := fmt.Sprintf("Flags [%s]", flags.String())
	// Sequence numbers are absolute (tcpdump -S); a bare ACK has none.
	if n := len(t.Payload); n > 0 {
		s += fmt.Sprintf(", seq %d:%d", t.Seq, t.Seq+uint32(n))
	} else if t.SYN || t.FIN || t.RST {
		s += fmt.Sprintf(", seq %d", t.Seq)
	}
	if t.ACK {
		s += fmt.Sprintf(", ack %d", t.Ack)
	}
	return s + fmt.Sprintf(", win %d, length %d", t.Window, len(t.Payload))
}

var unreachable = map[uint8]string{
	layers.ICMPv4CodeNet: "net", layers.ICMPv4CodeHost: "host", layers.ICMPv4CodeProtocol: "protocol",
	layers.ICMPv4CodePort: "port", layers.ICMPv4CodeFragmentationNeeded: "need to frag",
	layers.ICMPv4CodeNetAdminProhibited: "net administratively prohibited", layers.ICMPv4CodeHostAdminProhibited: "host administratively prohibited",
	layers.ICMPv4CodeCommAdminProhibited: "administratively prohibited",
}

func describeICMPv4(c *layers.ICMPv4) string {
	switch c.TypeCode.Type() {
	case layers.ICMPv4TypeEchoRequest:
		return fmt.Sprintf("echo request, id %d, seq %d", c.Id, c.Seq)
	case layers.ICMPv4TypeEchoReply:
		return fmt.Sprintf("echo reply, id %d, seq %d", c.Id, c.Seq)
	case layers.ICMPv4TypeDestinationUnreachable:
		what, ok := unreachable[c.TypeCode.Code()]
		if !ok {
			what = fmt.Sprintf("code %d", c.TypeCode.Code())
		}
		return what + " unreachable"
	case layers.ICMPv4TypeTimeExceeded:
		if c.TypeCode.Code() == layers.ICMPv4CodeTTLExceeded {
			return "time exceeded in-transit"
		}
		return "time exceeded in reassembly"
	case layers.ICMPv4TypeRedirect:
		return "redirect"
	}
	return fmt.Sprintf("type %d, code %d", c.TypeCode.Type(), c.TypeCode.Code())
}

func describeICMPv6(p gopacket.Packet, c *layers.ICMPv6) string {
	switch c.TypeCode.Type() {
	case layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeEchoReply:
		what := "echo request"
		if c.TypeCode.Type() == layers.ICMPv6TypeEchoReply {
			what = "echo reply"
		}
		if e, ok := p.Layer(layers.LayerTypeICMPv6Echo).(*layers.ICMPv6Echo); ok {
			return fmt.Sprintf("%s, id %d, seq %d", what, e.Identifier, e.SeqNumber)
		}
		return what
	case layers.ICMPv6TypeNeighborSolicitation:
		if ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation); ok {
			return "neighbor solicitation, who has " + ns.TargetAddress.String()
		}
		return "neighbor solicitation"
	case layers.ICMPv6TypeNeighborAdvertisement:
		if na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement); ok {
			return "neighbor advertisement, tgt is " + na.TargetAddress.String()
		}
		return "neighbor advertisement"
	case layers.ICMPv6TypeRouterSolicitation:
		return "router solicitation"
	case layers.ICMPv6TypeRouterAdvertisement:
		return "router advertisement"
	case layers.ICMPv6TypeDestinationUnreachable:
		return "destination unreachable"
	case layers.ICMPv6TypeTimeExceeded:
		return "time exceeded in-transit"
	case layers.ICMPv6TypePacketTooBig:
		return "packet too big"
	case 143:
		return "multicast listener report v2"
	}
	return fmt.Sprintf("type %d, code %d", c.TypeCode.Type(), c.TypeCode.Code())
}
