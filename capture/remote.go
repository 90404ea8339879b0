package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"

	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/wire"
)

// A node on another host of a cluster is captured by the agent of its
// host (engine/kube/agent): StreamNode opens the socket in the node's
// namespace there, as Run does here, and writes pcap on the stdout of an
// exec of netlab's; remoteSource reads that stream as a Socket reads the
// kernel's. A filter is compiled here, for Ethernet (a node's interfaces
// are), and sent as the program itself (FormatDDD).

// source is where a capture's frames come from: a Socket, or a remote one.
type source interface {
	Read() ([]byte, CaptureInfo, error)
	Stop()
	Drops() int
	Close() error
}

var _ source = (*Socket)(nil)

// remoteSource reads frames from a pcap stream.
type remoteSource struct {
	rc      io.ReadCloser
	r       *pcapReader
	stopped atomic.Bool
}

func newRemoteSource(rc io.ReadCloser) (*remoteSource, error) {
	r, err := newPcapReader(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("read the capture's stream: %w", err)
	}
	return &remoteSource{rc: rc, r: r}, nil
}

func (s *remoteSource) Read() ([]byte, CaptureInfo, error) {
	data, ci, err := s.r.ReadPacketData()
	if err != nil && s.stopped.Load() {
		return nil, ci, ErrStopped
	}
	return data, ci, err
}

func (s *remoteSource) Stop()        { s.stopped.Store(true); s.rc.Close() }
func (s *remoteSource) Drops() int   { return 0 }
func (s *remoteSource) Close() error { return s.rc.Close() }

// FormatDDD writes a program as `tcpdump -ddd` prints it, as ParseDDD
// reads it.
func FormatDDD(prog []bpf.RawInstruction) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(prog)))
	for _, in := range prog {
		fmt.Fprintf(&b, "\n%d %d %d %d", in.Op, in.Jt, in.Jf, in.K)
	}
	return b.String()
}

// ErrNodeGone says that a capture ended because its node stopped or
// restarted.
var ErrNodeGone = errNodeGone

// StreamNode captures on iface in the network namespace of process pid,
// with prog (nil: every frame; only on an Ethernet interface), and writes
// pcap to w, each frame as it comes, until ctx ends (nil) or the process
// leaves its namespace (ErrNodeGone).
func StreamNode(ctx context.Context, pid int, iface string, prog []bpf.RawInstruction, w io.Writer) error {
	inst, err := nodeinit.Instance(strconv.Itoa(pid))
	if err != nil {
		return err
	}
	ns, err := wire.OpenNS(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	l, err := ns.Handle().LinkByName(iface)
	if err != nil {
		return usagef("the node has no interface %q (known: %s)", iface, strings.Join(linkNames(ns.Handle()), ", "))
	}
	lt, err := linkType(l)
	if err != nil {
		return err
	}
	if prog != nil && lt != LinkTypeEthernet {
		return usagef("interface %s is %s: a filter of a node on another host is for Ethernet", iface, lt)
	}
	sock, err := Open(netns.NsHandle(ns.FD()), iface, l.Attrs().Index, prog)
	if err != nil {
		return err
	}
	defer sock.Close()
	buf := bufio.NewWriterSize(w, 1<<16)
	pw := newPcapWriter(buf)
	if err := pw.WriteFileHeader(Snaplen, lt); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watch(runCtx, func() bool {
		now, err := nodeinit.Instance(strconv.Itoa(pid))
		return err != nil || now != inst
	}, func() { cancel(errNodeGone) })
	_, err = loop(runCtx, sock, Options{}, func(data []byte, ci CaptureInfo) error {
		if err := pw.WritePacket(ci, data); err != nil {
			return err
		}
		return buf.Flush()
	})
	if errors.Is(context.Cause(runCtx), errNodeGone) {
		return errNodeGone
	}
	return err
}
