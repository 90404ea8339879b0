package nodeexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Run runs argv in the node whose init is process pid (on this host) and
// returns its exit status. The command's input is in (nil: none), its
// output and error go to out and errw (nil: discarded), through pipes:
// what the command wrote before it ended is all copied, and a process it
// left behind holding them does not hold Run. When ctx ends first, the
// command and its session are killed. ErrUnavailable: the init takes no
// commands, and nothing ran.
func Run(ctx context.Context, pid int, argv []string, in io.Reader, out, errw io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("no command")
	}
	c, err := dial(pid)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stdin, stdout, stderr, err := pipes()
	if err != nil {
		return 0, err
	}
	data, err := json.Marshal(request{Argv: argv})
	if err != nil {
		return 0, err
	}
	if len(data) > maxRequest {
		closeAll(stdin[0], stdin[1], stdout[0], stdout[1], stderr[0], stderr[1])
		return 0, fmt.Errorf("the command line is %d bytes: at most %d", len(data), maxRequest)
	}
	theirs := []*os.File{stdin[0], stdout[1], stderr[1]}
	rights := unix.UnixRights(int(stdin[0].Fd()), int(stdout[1].Fd()), int(stderr[1].Fd()))
	_, _, err = c.WriteMsgUnix(data, rights, nil)
	closeAll(theirs...)
	if err != nil {
		closeAll(stdin[1], stdout[0], stderr[0])
		return 0, fmt.Errorf("send the command to the node's init: %w", err)
	}
	if in != nil {
		go func() {
			io.Copy(stdin[1], in)
			stdin[1].Close()
		}()
	} else {
		stdin[1].Close()
	}
	// One write at a time: out and errw may be one writer, as the
	// runtimes' exec (one stream, demultiplexed in turn) allowed.
	var writing sync.Mutex
	copied := make(chan struct{}, 2)
	go copyOut(orDiscard(out), stdout[0], &writing, copied)
	go copyOut(orDiscard(errw), stderr[0], &writing, copied)

	answer := make(chan []byte, 1)
	failed := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			failed <- err
			return
		}
		answer <- buf[:n]
	}()
	var data2 []byte
	select {
	case data2 = <-answer:
	case err = <-failed:
	case <-ctx.Done():
		c.Close() // the init kills the command
		err = ctx.Err()
	}
	// What the command wrote is in the pipes now: take it, and no more.
	now := time.Now()
	stdout[0].SetReadDeadline(now)
	stderr[0].SetReadDeadline(now)
	<-copied
	<-copied
	closeAll(stdout[0], stderr[0])
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("the node's init: %w", err)
	}
	var r reply
	if err := decode(data2, &r); err != nil {
		return 0, fmt.Errorf("the node's init: %w", err)
	}
	if r.Error != "" && errw != nil {
		fmt.Fprintf(errw, "netlab: %s\n", r.Error)
	}
	return r.Code, nil
}

// dial connects to the init of process pid through a socket made in its
// network namespace, and checks that the init answers.
func dial(pid int) (*net.UnixConn, error) {
	ns, err := netns.GetFromPath("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer ns.Close()
	c, err := dialIn(ns)
	if err != nil {
		return nil, err
	}
	if !answeredBy(c, pid) {
		c.Close()
		return nil, fmt.Errorf("%w: another process than the node's init answers", ErrUnavailable)
	}
	return c, nil
}

// dialIn connects from a socket made in namespace ns: the thread switches
// there for the dial only; the socket stays in ns.
func dialIn(ns netns.NsHandle) (*net.UnixConn, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("%w: enter the node's namespace: %v", ErrUnavailable, err)
	}
	c, dialErr := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: SocketName, Net: "unixpacket"})
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the node's namespace: left locked, Go
		// retires it with this goroutine.
		if dialErr == nil {
			c.Close()
		}
		return nil, fmt.Errorf("return to the host's namespace: %w", err)
	}
	runtime.UnlockOSThread()
	if dialErr != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, dialErr)
	}
	return c, nil
}

// answeredBy reports whether the socket's peer is process pid.
func answeredBy(c *net.UnixConn, pid int) bool {
	cred, err := peer(c)
	return err == nil && int(cred.Pid) == pid
}

// pipes makes the command's three pipes: [read end, write end] each.
func pipes() (in, out, errp [2]*os.File, err error) {
	var made []*os.File
	for _, p := range []*[2]*os.File{&in, &out, &errp} {
		r, w, perr := os.Pipe()
		if perr != nil {
			closeAll(made...)
			return in, out, errp, perr
		}
		p[0], p[1] = r, w
		made = append(made, r, w)
	}
	return in, out, errp, nil
}

// copyOut copies the pipe r to w until the pipe ends or its read deadline
// passes (the command ended): then what is left in the pipe is taken
// without waiting for more.
func copyOut(w io.Writer, r *os.File, writing *sync.Mutex, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	write := func(p []byte) {
		writing.Lock()
		w.Write(p)
		writing.Unlock()
	}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			write(buf[:n])
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			r.SetReadDeadline(time.Time{})
			if raw, err := r.SyscallConn(); err == nil {
				raw.Read(func(fd uintptr) bool {
					for {
						n, _ := unix.Read(int(fd), buf)
						if n <= 0 {
							return true
						}
						write(buf[:n])
					}
				})
			}
		}
		return
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}
