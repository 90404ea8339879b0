package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// LinkType is a pcap link type (LINKTYPE_ in libpcap's list): what the
// frames of a capture start with.
type LinkType uint32

// The link types netlab captures: Ethernet interfaces (and the loopback),
// and interfaces that carry bare IP packets (a tunnel, a tun device).
const (
	LinkTypeEthernet LinkType = 1
	LinkTypeRaw      LinkType = 101
)

func (lt LinkType) String() string {
	switch lt {
	case LinkTypeEthernet:
		return "Ethernet"
	case LinkTypeRaw:
		return "Raw"
	}
	return "link type " + strconv.Itoa(int(lt))
}

// CaptureInfo is what a capture knows of a frame besides its bytes: when
// it was read, how many bytes were kept and how long it was on the wire.
type CaptureInfo struct {
	Timestamp     time.Time
	CaptureLength int
	Length        int
}

// The pcap file format (the classic one, not pcapng): a 24-byte file
// header, then a 16-byte header before each frame. Magic numbers say the
// byte order and whether the second field of a time stamp is micro- or
// nanoseconds.
const (
	pcapMagicMicro   = 0xa1b2c3d4
	pcapMagicNano    = 0xa1b23c4d
	pcapFileHeader   = 24
	pcapRecordHeader = 16
	// pcapMaxRecord bounds a record a reader accepts, whatever the file's
	// header claims, before anything is allocated for it: 256 KiB is the
	// largest snapshot length libpcap writes.
	pcapMaxRecord = 256 << 10
)

// pcapWriter writes a pcap stream: microsecond time stamps, little
// endian, as tcpdump writes on most machines.
type pcapWriter struct {
	w   io.Writer
	buf [pcapFileHeader]byte
}

func newPcapWriter(w io.Writer) *pcapWriter { return &pcapWriter{w: w} }

// WriteFileHeader writes the stream's header, once, before any frame.
func (p *pcapWriter) WriteFileHeader(snaplen uint32, lt LinkType) error {
	h := p.buf[:pcapFileHeader]
	binary.LittleEndian.PutUint32(h[0:], pcapMagicMicro)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[8:], 0)  // time zone: UTC
	binary.LittleEndian.PutUint32(h[12:], 0) // accuracy of time stamps
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(lt))
	_, err := p.w.Write(h)
	return err
}

// WritePacket writes a frame with its header; data is what was captured
// of it (ci.CaptureLength bytes).
func (p *pcapWriter) WritePacket(ci CaptureInfo, data []byte) error {
	if ci.CaptureLength != len(data) {
		return fmt.Errorf("capture length %d does not match the %d bytes of the frame", ci.CaptureLength, len(data))
	}
	if ci.CaptureLength > ci.Length {
		return fmt.Errorf("capture length %d is more than the frame's length %d", ci.CaptureLength, ci.Length)
	}
	h := p.buf[:pcapRecordHeader]
	usec := ci.Timestamp.UnixMicro()
	binary.LittleEndian.PutUint32(h[0:], uint32(usec/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(usec%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(ci.CaptureLength))
	binary.LittleEndian.PutUint32(h[12:], uint32(ci.Length))
	if _, err := p.w.Write(h); err != nil {
		return err
	}
	_, err := p.w.Write(data)
	return err
}

// pcapReader reads a pcap stream of either byte order and either time
// stamp resolution.
type pcapReader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	snaplen  uint32
	linkType LinkType
	hdr      [pcapRecordHeader]byte
}

func newPcapReader(r io.Reader) (*pcapReader, error) {
	var h [pcapFileHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("read the pcap header: %w", err)
	}
	p := &pcapReader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == pcapMagicMicro:
		p.order = binary.LittleEndian
	case binary.LittleEndian.Uint32(h[:]) == pcapMagicNano:
		p.order, p.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == pcapMagicMicro:
		p.order = binary.BigEndian
	case binary.BigEndian.Uint32(h[:]) == pcapMagicNano:
		p.order, p.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("not a pcap stream (magic number %x)", h[:4])
	}
	p.snaplen = p.order.Uint32(h[16:])
	p.linkType = LinkType(p.order.Uint32(h[20:]))
	return p, nil
}

// LinkType is the stream's link type, from its header.
func (p *pcapReader) LinkType() LinkType { return p.linkType }

// ReadPacketData reads the next frame: io.EOF at the end of the stream.
func (p *pcapReader) ReadPacketData() ([]byte, CaptureInfo, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("pcap stream cut short in a frame's header: %w", err)
		}
		return nil, CaptureInfo{}, err
	}
	sec, frac := int64(p.order.Uint32(p.hdr[0:])), int64(p.order.Uint32(p.hdr[4:]))
	if !p.nano {
		frac *= 1000
	}
	ci := CaptureInfo{
		Timestamp:     time.Unix(sec, frac),
		CaptureLength: int(p.order.Uint32(p.hdr[8:])),
		Length:        int(p.order.Uint32(p.hdr[12:])),
	}
	if ci.CaptureLength > pcapMaxRecord || ci.CaptureLength > max(int(p.snaplen), 1<<16) {
		return nil, ci, fmt.Errorf("pcap frame of %d bytes: more than the stream's snapshot length %d", ci.CaptureLength, p.snaplen)
	}
	data := make([]byte, ci.CaptureLength)
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, ci, fmt.Errorf("pcap stream cut short in a frame: %w", err)
	}
	return data, ci, nil
}
