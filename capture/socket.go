package capture

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Snaplen is the most of a frame that is kept: as much as tcpdump keeps
// by default, enough for the largest segment a veth hands over whole.
const Snaplen = 262144

// rcvBuf is the receive queue asked of the kernel, in bytes (it doubles
// it for its bookkeeping): a burst of hundreds of large segments fits.
const rcvBuf = 8 << 20

// Socket is a packet socket bound to one interface, maybe in another
// network namespace. Read it from one goroutine; Stop it from any.
type Socket struct {
	f    *os.File // the socket, non-blocking, in Go's poller: Stop wakes Read
	buf  []byte
	oob  []byte
	name string
}

// Open opens a packet socket in the network namespace ns (netns.None()
// for the current one) and binds it to the interface with index ifindex
// there, with the interface in promiscuous mode for as long as the socket
// lives (so that a bridge shows the frames it forwards) and prog, if any,
// attached as its filter: the kernel drops what the filter refuses.
func Open(ns netns.NsHandle, name string, ifindex int, prog []bpf.RawInstruction) (*Socket, error) {
	fd, err := socketIn(ns)
	if err != nil {
		return nil, fmt.Errorf("packet socket for %s: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	// The socket was made for no protocol, so it has received nothing yet:
	// the filter is in place before the first frame arrives.
	if len(prog) > 0 {
		if err := attachFilter(fd, prog); err != nil {
			return nil, fmt.Errorf("attach the filter to the socket for %s: %w", name, err)
		}
	}
	// Room for bursts of large segments (a veth hands over up to 64 KB at
	// once): the default queue holds a few of them. Above rmem_max as root.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf) // what rmem_max allows
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return nil, fmt.Errorf("timestamps on the socket for %s: %w", name, err)
	}
	// The socket lives in its namespace, so the index names the interface there.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return nil, fmt.Errorf("bind the packet socket to %s: %w", name, err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return nil, fmt.Errorf("promiscuous mode on %s: %w", name, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	ok = true
	return &Socket{
		f:    os.NewFile(uintptr(fd), name),
		buf:  make([]byte, Snaplen),
		oob:  make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))),
		name: name,
	}, nil
}

// socketIn creates the packet socket in namespace ns: the thread switches
// there for the socket call only, and the socket stays in that namespace.
func socketIn(ns netns.NsHandle) (int, error) {
	if !ns.IsOpen() {
		return unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("enter the node's namespace: %w", err)
	}
	fd, sockErr := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the node's namespace: leave it locked so
		// that Go retires it with this goroutine.
		if sockErr == nil {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("return to the host's namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return fd, sockErr
}

func attachFilter(fd int, prog []bpf.RawInstruction) error {
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ErrStopped is what Read returns once Stop was called.
var ErrStopped = errors.New("capture stopped")

// Read waits for the next frame and returns it with its time (the
// kernel's) and length; the data is valid until the next Read.
func (s *Socket) Read() ([]byte, CaptureInfo, error) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return nil, CaptureInfo{}, err
	}
	var n, oobn int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		// MSG_TRUNC: n is the frame's length even when the buffer is shorter.
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), s.buf, s.oob, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		return nil, CaptureInfo{}, ErrStopped
	}
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, CaptureInfo{}, fmt.Errorf("read from %s: %w", s.name, err)
	}
	ci := CaptureInfo{Timestamp: s.stamp(oobn), Length: n, CaptureLength: min(n, len(s.buf))}
	return s.buf[:ci.CaptureLength], ci, nil
}

// stamp is the kernel's receive time from the control message, or now.
func (s *Socket) stamp(oobn int) time.Time {
	msgs, err := unix.ParseSocketControlMessage(s.oob[:oobn])
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Unix())
			}
		}
	}
	return time.Now()
}

// Stop makes a waiting or later Read return ErrStopped.
func (s *Socket) Stop() { s.f.SetReadDeadline(time.Now()) }

// Drops is how many frames the kernel dropped because the socket's queue
// was full, since the last call.
func (s *Socket) Drops() int {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0
	}
	drops := 0
	rc.Control(func(fd uintptr) {
		if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			drops = int(st.Drops)
		}
	})
	return drops
}

// Close closes the socket; the interface leaves promiscuous mode.
func (s *Socket) Close() error { return s.f.Close() }
