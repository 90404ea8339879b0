package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The frames of TestSummary are built by gopacket, an implementation of
// their formats other than the decoder's; these add what a lab's links
// carry besides: VLAN tags, 802.3 frames, IPv6 extension headers,
// fragments, TCP options, Ethernet's padding.
func TestSummaryMore(t *testing.T) {
	payload := func(n int) gopacket.Payload { return make(gopacket.Payload, n) }
	vlan := func(next layers.EthernetType) *layers.Dot1Q {
		return &layers.Dot1Q{VLANIdentifier: 10, Type: next}
	}
	firstFragment := ip4(layers.IPProtocolTCP)
	firstFragment.Flags = layers.IPv4MoreFragments
	mldDst := net.ParseIP("ff02::16")
	mld := &layers.IPv6{Version: 6, HopLimit: 1, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: ip6A, DstIP: mldDst}
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolICMPv6
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 5, OptionLength: 2, OptionData: []byte{0, 0}}, {OptionType: 1, OptionLength: 0}}
	padded := frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 68, DstPort: 67}, payload(2))
	padded = append(padded, make([]byte, 60-len(padded))...)
	raw := func(etherType uint16, n int) []byte { // a header and n bytes, not padded
		b := append(append(append([]byte{}, macB...), macA...), byte(etherType>>8), byte(etherType))
		return append(b, make([]byte, n)...)
	}
	stp := append([]byte{0x01, 0x80, 0xc2, 0, 0, 0, 0x02, 0x42, 0x0a, 0x01, 0x01, 0x01, 0x00, 0x26, 0x42, 0x42, 0x03}, make([]byte, 43)...)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"ping in a VLAN", frame(t, eth(layers.EthernetTypeDot1Q), vlan(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 2}, payload(8)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id 1, seq 2, length 16"},
		{"LLDP in a VLAN", frame(t, eth(layers.EthernetTypeDot1Q), vlan(layers.EthernetTypeLinkLayerDiscovery), payload(42)),
			"02:42:0a:01:01:01 > 02:42:0a:01:01:02, ethertype Dot1Q (0x8100), length 60"},
		{"STP (802.3)", stp, "02:42:0a:01:01:01 > 01:80:c2:00:00:00, ethertype LLC (0x0000), length 60"},
		{"udp padded to 60 bytes", padded, "IP 10.1.1.1.68 > 10.1.1.2.67: UDP, length 2"},
		{"tcp with options", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 22, Seq: 9, SYN: true, ECE: true, CWR: true, Window: 64240,
				Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
					{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}, {OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop}}}),
			"IP 10.1.1.1.40000 > 10.1.1.2.22: Flags [SEW], seq 9, win 64240, length 0"},
		{"tcp with no flags", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, Seq: 5, Window: 1}),
			"IP 10.1.1.1.1 > 10.1.1.2.2: Flags [none], win 1, length 0"},
		{"first fragment", frame(t, eth(layers.EthernetTypeIPv4), firstFragment, payload(40)),
			"IP 10.1.1.1 > 10.1.1.2: TCP, length 40"},
		{"need to frag", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeFragmentationNeeded)}, payload(28)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP need to frag unreachable, length 36"},
		{"icmp type 13", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(13, 0)}, payload(12)),
			"IP 10.1.1.1 > 10.1.1.2: ICMP type 13, code 0, length 20"},
		{"pong6", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolICMPv6),
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoReply, 0)},
			&layers.ICMPv6Echo{Identifier: 9, SeqNumber: 2}, payload(8)),
			"IP6 fd00::1 > fd00::2: ICMP6, echo reply, id 9, seq 2, length 16"},
		{"neighbour advertisement", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolICMPv6),
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)},
			&layers.ICMPv6NeighborAdvertisement{TargetAddress: ip6A, Flags: 0x60}),
			"IP6 fd00::1 > fd00::2: ICMP6, neighbor advertisement, tgt is fd00::1, length 24"},
		{"MLD report after hop-by-hop options", frame(t, eth(layers.EthernetTypeIPv6), mld, hbh,
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(143, 0)}, payload(24)),
			"IP6 fd00::1 > ff02::16: ICMP6, multicast listener report v2, length 28"},
		{"IPv6 fragment", frame(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Fragment),
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: 100, Identification: 7}, payload(64)),
			"IP6 fd00::1 > fd00::2: UDP fragment, length 64"},
		{"tcp header cut short", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), payload(12)),
			"IP 10.1.1.1 > 10.1.1.2: TCP, length 12"},
		{"ARP cut short", raw(0x0806, 6),
			"02:42:0a:01:01:01 > 02:42:0a:01:01:02, ethertype ARP (0x0806), length 20"},
		{"IPv4 header cut short", raw(0x0800, 19),
			"02:42:0a:01:01:01 > 02:42:0a:01:01:02, ethertype IPv4 (0x0800), length 33"},
		{"unknown EtherType", frame(t, eth(0x1234), payload(46)),
			"02:42:0a:01:01:01 > 02:42:0a:01:01:02, ethertype UnknownEthernetType (0x1234), length 60"},
	}
	at := time.Date(2024, 5, 6, 15, 4, 5, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci := CaptureInfo{Timestamp: at, Length: len(tt.data), CaptureLength: len(tt.data)}
			if got, want := Summary(tt.data, ci, LinkTypeEthernet), "15:04:05.000000 "+tt.want; got != want {
				t.Errorf("Summary:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestPcapRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := newPcapWriter(&buf)
	if err := w.WriteFileHeader(Snaplen, LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 6, 15, 4, 5, 123456789, time.Local)
	frames := [][]byte{{0x45, 1, 2}, bytes.Repeat([]byte{7}, 1500), {}}
	for i, f := range frames {
		if err := w.WritePacket(CaptureInfo{Timestamp: at.Add(time.Duration(i) * time.Second), CaptureLength: len(f), Length: len(f) + i}, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WritePacket(CaptureInfo{CaptureLength: 3, Length: 3}, []byte{1}); err == nil {
		t.Error("a capture length other than the data's was written")
	}
	if err := w.WritePacket(CaptureInfo{CaptureLength: 3, Length: 2}, []byte{1, 2, 3}); err == nil {
		t.Error("a capture length over the frame's length was written")
	}
	// tcpdump's reading of the header: magic, version 2.4, snaplen, link type.
	h := buf.Bytes()[:24]
	if binary.LittleEndian.Uint32(h) != 0xa1b2c3d4 || binary.LittleEndian.Uint16(h[4:]) != 2 || binary.LittleEndian.Uint16(h[6:]) != 4 ||
		binary.LittleEndian.Uint32(h[16:]) != Snaplen || binary.LittleEndian.Uint32(h[20:]) != 101 {
		t.Fatalf("file header % x", h)
	}
	r, err := newPcapReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != LinkTypeRaw {
		t.Errorf("link type %s", r.LinkType())
	}
	for i, f := range frames {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		want := at.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond)
		if !bytes.Equal(data, f) || ci.CaptureLength != len(f) || ci.Length != len(f)+i || !ci.Timestamp.Equal(want) {
			t.Errorf("frame %d: % x %+v", i, data[:min(len(data), 4)], ci)
		}
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
}

// A stream written big endian with nanosecond time stamps (as some
// machines' tcpdump -j writes) reads the same.
func TestPcapReaderBigEndianNano(t *testing.T) {
	var b bytes.Buffer
	be := binary.BigEndian
	for _, v := range []any{uint32(0xa1b23c4d), uint16(2), uint16(4), uint32(0), uint32(0), uint32(65535), uint32(1),
		uint32(1700000000), uint32(999999999), uint32(2), uint32(60), []byte{0xaa, 0xbb}} {
		if err := binary.Write(&b, be, v); err != nil {
			t.Fatal(err)
		}
	}
	r, err := newPcapReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	data, ci, err := r.ReadPacketData()
	if err != nil || r.LinkType() != LinkTypeEthernet || !bytes.Equal(data, []byte{0xaa, 0xbb}) || ci.Length != 60 ||
		!ci.Timestamp.Equal(time.Unix(1700000000, 999999999)) {
		t.Errorf("% x %+v %v", data, ci, err)
	}
}

func TestPcapReaderRefuses(t *testing.T) {
	if _, err := newPcapReader(strings.NewReader("this is not a pcap stream, no")); err == nil || !strings.Contains(err.Error(), "not a pcap stream") {
		t.Errorf("not pcap: %v", err)
	}
	if _, err := newPcapReader(strings.NewReader("short")); err == nil {
		t.Error("a short header was read")
	}
	var buf bytes.Buffer
	w := newPcapWriter(&buf)
	if err := w.WriteFileHeader(Snaplen, LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	// A record that claims 16 MiB: refused before anything is allocated for it.
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[8:], 16<<20)
	binary.LittleEndian.PutUint32(rec[12:], 16<<20)
	buf.Write(rec)
	r, err := newPcapReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadPacketData(); err == nil || !strings.Contains(err.Error(), "snapshot length") {
		t.Errorf("a 16 MiB record: %v", err)
	}
	// A frame cut short.
	buf.Reset()
	if err := w.WriteFileHeader(Snaplen, LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(CaptureInfo{CaptureLength: 10, Length: 10}, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	r, err = newPcapReader(bytes.NewReader(buf.Bytes()[:buf.Len()-3]))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadPacketData(); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("a frame cut short: %v", err)
	}
}

// FuzzSummary: any bytes on either link type give one line, and no panic.
func FuzzSummary(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(bytes.Repeat([]byte{0x45}, 60), true)
	f.Add(append(make([]byte, 12), 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 0, 64), false)
	f.Add(append(make([]byte, 12), 0x81, 0x00, 0, 10, 0x08, 0x00, 0x45, 0, 0, 0), false)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		lt := LinkTypeEthernet
		if raw {
			lt = LinkTypeRaw
		}
		s := Summary(data, CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(data), Length: len(data)}, lt)
		if s == "" || strings.Contains(s, "\n") {
			t.Fatalf("summary %q", s)
		}
	})
}

// FuzzPcapReader: any stream is read frame by frame or refused, within
// the record limit, and no panic.
func FuzzPcapReader(f *testing.F) {
	var buf bytes.Buffer
	w := newPcapWriter(&buf)
	_ = w.WriteFileHeader(Snaplen, LinkTypeEthernet)
	_ = w.WritePacket(CaptureInfo{CaptureLength: 4, Length: 4}, []byte{1, 2, 3, 4})
	f.Add(buf.Bytes())
	f.Add([]byte("\xa1\xb2\xc3\xd4"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r, err := newPcapReader(bytes.NewReader(stream))
		if err != nil {
			return
		}
		for {
			data, _, err := r.ReadPacketData()
			if err != nil {
				return
			}
			if len(data) > pcapMaxRecord {
				t.Fatalf("a frame of %d bytes", len(data))
			}
		}
	})
}
