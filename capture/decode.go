package capture

import (
	"encoding/binary"
	"net"
)

// decoded is a frame as Summary reads it: the Ethernet header (when the link has
// one), then ARP or IP, then TCP, UDP or ICMP. Each part is decoded only
// when all of its header was captured; a part that is not stays nil and
// the summary names what came before it. Nothing is copied: the fields
// point into the captured bytes.
type decoded struct {
	eth *ethernet
	arp *arp
	ip  *ipPacket
}

type ethernet struct {
	src, dst  net.HardwareAddr
	etherType uint16 // the outer one (0x8100 for a VLAN's frame); 0 for 802.3 (LLC)
}

type arp struct {
	op           uint16
	hwSize       int
	protoSize    int
	srcMAC       net.HardwareAddr
	srcIP, dstIP net.IP
}

type ipPacket struct {
	v6       bool
	src, dst net.IP
	proto    uint8  // the upper protocol, after IPv6's extension headers
	payload  []byte // what follows the IP header (and IPv6's extension headers)
	fragment bool   // a fragment after the first: its upper header is elsewhere
	tcp      *tcp
	udp      *udp
	icmp     *icmp
}

type tcp struct {
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            uint8
	window           uint16
	payload          int
}

type udp struct {
	srcPort, dstPort uint16
	payload          int
}

type icmp struct {
	typ, code uint8
	echo      bool // id and seq are there (echo request and reply)
	id, seq   uint16
	target    net.IP // the target of an IPv6 neighbour solicitation or advertisement
}

// EtherTypes, IP protocol numbers and TCP flags Summary tells apart.
const (
	etherIPv4   = 0x0800
	etherARP    = 0x0806
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	tcpFIN      = 0x01
	tcpSYN      = 0x02
	tcpRST      = 0x04
	tcpPSH      = 0x08
	tcpACK      = 0x10
	tcpURG      = 0x20
	tcpECE      = 0x40
	tcpCWR      = 0x80
)

// decodeFrame reads a frame of link type lt.
func decodeFrame(data []byte, lt LinkType) *decoded {
	f := &decoded{}
	switch lt {
	case LinkTypeEthernet:
		if len(data) < 14 {
			return f
		}
		e := &ethernet{dst: data[0:6], src: data[6:12], etherType: binary.BigEndian.Uint16(data[12:14])}
		f.eth = e
		t, rest := e.etherType, data[14:]
		if t < 0x0600 { // 802.3: a length and an LLC header, no EtherType
			e.etherType = 0
			return f
		}
		for (t == etherVLAN || t == etherQinQ) && len(rest) >= 4 { // 802.1Q tags
			t, rest = binary.BigEndian.Uint16(rest[2:4]), rest[4:]
		}
		switch t {
		case etherARP:
			f.arp = decodeARP(rest)
		case etherIPv4:
			f.ip = decodeIPv4(rest)
		case etherIPv6:
			f.ip = decodeIPv6(rest)
		}
	case LinkTypeRaw:
		if len(data) == 0 {
			return f
		}
		switch data[0] >> 4 {
		case 4:
			f.ip = decodeIPv4(data)
		case 6:
			f.ip = decodeIPv6(data)
		}
	}
	return f
}

func decodeARP(b []byte) *arp {
	if len(b) < 8 {
		return nil
	}
	a := &arp{op: binary.BigEndian.Uint16(b[6:8]), hwSize: int(b[4]), protoSize: int(b[5])}
	if len(b) < 8+2*a.hwSize+2*a.protoSize {
		return nil
	}
	hw, p := a.hwSize, a.protoSize
	a.srcMAC = b[8 : 8+hw]
	a.srcIP = b[8+hw : 8+hw+p]
	a.dstIP = b[8+2*hw+p : 8+2*hw+2*p]
	return a
}

func decodeIPv4(b []byte) *ipPacket {
	if len(b) < 20 {
		return nil
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total == 0 { // segmentation offload: the length is the frame's
		total = len(b)
	}
	if ihl < 20 || total < ihl || len(b) < ihl {
		return nil
	}
	if total < len(b) { // Ethernet's padding
		b = b[:total]
	}
	flagsFrag := binary.BigEndian.Uint16(b[6:8])
	ip := &ipPacket{src: b[12:16], dst: b[16:20], proto: b[9], payload: b[ihl:]}
	ip.fragment = flagsFrag&0x1fff != 0
	if flagsFrag&0x3fff == 0 { // neither a later fragment nor one with more to come
		ip.upper()
	}
	return ip
}

func decodeIPv6(b []byte) *ipPacket {
	if len(b) < 40 {
		return nil
	}
	end := 40 + int(binary.BigEndian.Uint16(b[4:6]))
	if end < len(b) {
		b = b[:end]
	}
	ip := &ipPacket{v6: true, src: b[8:24], dst: b[24:40], proto: b[6], payload: b[40:]}
	for {
		switch ip.proto {
		case 0, 43, 60: // hop-by-hop options (an MLD report's), routing, destination options
			if len(ip.payload) < 8 {
				return ip
			}
			n := 8 + 8*int(ip.payload[1])
			if len(ip.payload) < n {
				return ip
			}
			ip.proto, ip.payload = ip.payload[0], ip.payload[n:]
			continue
		case 44: // fragment
			if len(ip.payload) < 8 {
				return ip
			}
			ip.fragment = binary.BigEndian.Uint16(ip.payload[2:4])>>3 != 0
			ip.proto, ip.payload = ip.payload[0], ip.payload[8:]
			return ip
		}
		ip.upper()
		return ip
	}
}

// upper reads the TCP, UDP or ICMP header of a whole (unfragmented) packet.
func (ip *ipPacket) upper() {
	b := ip.payload
	switch {
	case ip.proto == protoTCP && len(b) >= 20:
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return
		}
		ip.tcp = &tcp{
			srcPort: binary.BigEndian.Uint16(b[0:2]), dstPort: binary.BigEndian.Uint16(b[2:4]),
			seq: binary.BigEndian.Uint32(b[4:8]), ack: binary.BigEndian.Uint32(b[8:12]),
			flags: b[13], window: binary.BigEndian.Uint16(b[14:16]), payload: len(b) - off,
		}
	case ip.proto == protoUDP && len(b) >= 8:
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n == 0 { // a jumbogram's: the rest of the packet
			n = len(b)
		}
		if n < 8 {
			return
		}
		ip.udp = &udp{srcPort: binary.BigEndian.Uint16(b[0:2]), dstPort: binary.BigEndian.Uint16(b[2:4]), payload: min(n, len(b)) - 8}
	case (ip.proto == protoICMP && !ip.v6 || ip.proto == protoICMPv6 && ip.v6) && len(b) >= 4:
		c := &icmp{typ: b[0], code: b[1]}
		echo := ip.v6 && (c.typ == 128 || c.typ == 129) || !ip.v6 && (c.typ == 0 || c.typ == 8)
		if echo && len(b) >= 8 {
			c.echo, c.id, c.seq = true, binary.BigEndian.Uint16(b[4:6]), binary.BigEndian.Uint16(b[6:8])
		}
		if !ip.v6 && len(b) < 8 { // ICMP's header is 8 bytes
			return
		}
		if ip.v6 && (c.typ == 135 || c.typ == 136) && len(b) >= 24 {
			c.target = b[8:24]
		}
		ip.icmp = c
	}
}
