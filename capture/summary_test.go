package capture

import (
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{0x02, 0x42, 0x0a, 0x01, 0x01, 0x01}
	macB = net.HardwareAddr{0x02, 0x42, 0x0a, 0x01, 0x01, 0x02}
	ipA  = net.IPv4(10, 1, 1, 1).To4()
	ipB  = net.IPv4(10, 1, 1, 2).To4()
	ip6A = net.ParseIP("fd00::1")
	ip6B = net.ParseIP("fd00::2")
)

// frame serializes layers into an Ethernet frame, lengths and checksums
// computed.
func frame(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		var ip gopacket.NetworkLayer
		switch x := l.(type) {
		case *layers.IPv4:
			ip = x
		case *layers.IPv6:
			ip = x
		}
		if ip == nil {
			continue
		}
		for _, m := range ls {
			switch x := m.(type) {
			case *layers.TCP:
				x.SetNetworkLayerForChecksum(ip)
			case *layers.UDP:
				x.SetNetworkLayerForChecksum(ip)
			case *layers.ICMPv6:
				x.SetNetworkLayerForChecksum(ip)
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: ipA, DstIP: ipB}
}

func ip6(p layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: p, SrcIP: ip6A, DstIP: ip6B}
}

func TestSummary(t *testing.T) {
	payload := func(n int) gopacket.Payload { return make(gopacket.Payload, n) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"arp request", frame(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: ipA,
			DstHwAddress: make([]byte, 6), DstProtAddress: ipB}, payload(18)),
			"ARP, Request who-has 10.1.1.2 tell 10.1.1.1, length 28"},
		{"arp reply", frame(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply, SourceHwAddress: macB, SourceProtAddress: ipB,
			DstHwAddress: macA, DstProtAddress: ipA}),
			"ARP, Reply 10.1.1.2 is-at 02:42:0a:01:01:02, length 28"},
		{"ping", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 7, Seq: 3}, payload(56)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id 7, seq 3, length 64"},
		{"pong", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: 7, Seq: 3}, payload(56)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP echo reply, id 7, seq 3, length 64"},
		{"port unreachable", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodePort)}, payload(28)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP port unreachable, length 36"},
		{"ttl exceeded", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeTimeExceeded, layers.ICMPv4CodeTTLExceeded)}, payload(28)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP time exceeded in-transit, length 36"},
		{"tcp syn", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1234, SYN: true, Window: 64240, DataOffset: 5}),
			"IP 10.1.1.1.40000 > 10.1.1.2.80: Flags [S], seq 1234, win 64240, length 0"},
		{"tcp data", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 80, DstPort: 40000, Seq: 100, Ack: 1235, PSH: true, ACK: true, Window: 502, DataOffset: 5}, payload(20)),
			"IP 10.1.1.1.80 > 10.1.1.2.40000: Flags [P.], seq 100:120, ack 1235, win 502, length 20"},
		{"tcp ack", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1235, Ack: 120, ACK: true, Window: 63, DataOffset: 5}),
			"IP 10.1.1.1.40000 > 10.1.1.2.80: Flags [.], ack 120, win 63, length 0"},
		{"tcp fin", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1235, Ack: 120, FIN: true, ACK: true, Window: 63, DataOffset: 5}),
			"IP 10.1.1.1.40000 > 10.1.1.2.80: Flags [F.], seq 1235, ack 120, win 63, length 0"},
		{"udp", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 53}, payload(30)),
			"IP 10.1.1.1.5353 > 10.1.1.2.53: UDP, length 30"},
		{"ospf", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolOSPF), payload(44)),
			"IP 10.1.1.1 > 10.1.1.2: OSPF, length 44"},
		{"other protocol", frame(t, eth(layers.EthernetTypeIPv4), ip4(253), payload(10)),
			"IP 10.1.1.1 > 10.1.1.2: ip-proto-253, length 10"},
		{"fragment", frame(t, eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
			SrcIP: ipA, DstIP: ipB, FragOffset: 185}, payload(100)),
			"IP 10.1.1.1 > 10.1.1.2: UDP fragment, length 100"},
		{"ping6", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolICMPv6),
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)},
			&layers.ICMPv6Echo{Identifier: 9, SeqNumber: 1}, payload(56)),
			"IP6 fd00::1 > fd00::2: ICMP6, echo request, id 9, seq 1, length 64"},
		{"neighbour solicitation", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolICMPv6),
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)},
			&layers.ICMPv6NeighborSolicitation{TargetAddress: ip6B}),
			"IP6 fd00::1 > fd00::2: ICMP6, neighbor solicitation, who has fd00::2, length 24"},
		{"udp6", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 546, DstPort: 547}, payload(12)),
			"IP6 fd00::1.546 > fd00::2.547: UDP, length 12"},
		{"lldp", frame(t, eth(layers.EthernetTypeLinkLayerDiscovery), payload(46)),
			"02:42:0a:01:01:01 > 02:42:0a:01:01:02, ethertype LinkLayerDiscovery (0x88cc), length 60"},
	}
	at := time.Date(2024, 5, 6, 15, 4, 5, 123456789, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci := CaptureInfo{Timestamp: at, Length: len(tt.data), CaptureLength: len(tt.data)}
			got := Summary(tt.data, ci, LinkTypeEthernet)
			if want := "15:04:05.123456 " + tt.want; got != want {
				t.Errorf("Summary:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSummaryOfRawIP(t *testing.T) {
	data := frame(t, ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}, make(gopacket.Payload, 3))
	ci := CaptureInfo{Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Length: len(data), CaptureLength: len(data)}
	if got, want := Summary(data, ci, LinkTypeRaw), "00:00:00.000000 IP 10.1.1.1.1 > 10.1.1.2.2: UDP, length 3"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSummaryOfGarbage(t *testing.T) {
	ci := CaptureInfo{Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Length: 3, CaptureLength: 3}
	if got, want := Summary([]byte{1, 2, 3}, ci, LinkTypeEthernet), "00:00:00.000000 unknown frame, length 3"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
