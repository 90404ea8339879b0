package hostproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/runtimes"
)

// A published port is served by a small netlab process on the host, one per
// port: it listens on the host address and reaches the node's port from
// inside the node's namespace (so the node needs no route to the host and
// the host no address in the lab). TCP: for each connection it dials the
// plan's addresses in order (the node's loopback, then its lab addresses)
// and takes the first that accepts, so a server bound only to a lab address
// is reached too. UDP: for each client address it opens a socket in the node
// (a session, closed after a minute without traffic), so that replies go
// back to the right client; a datagram refused at one address (ICMP port
// unreachable) is sent again to the next. It finds the container by name at
// every connection or session (and a session again when the node's process
// has gone), so a restarted node is reached in its new namespace. Its pid file lives in the lab's run directory; down stops it.

// Forwarding is what one forwarder serves.
type Forwarding struct {
	Proto     string       // tcp or udp
	Listen    string       // host address:port
	Container string       // the node's container
	Port      int          // the node's port
	Dial      []netip.Addr // where, in the node, to reach Port, in order
}

// udpIdle is how long a UDP session lives without traffic either way.
const udpIdle = 60 * time.Second

// forwardPidFile is the pid file of the forwarder of node's published port.
func forwardPidFile(lab, node string, p *planner.Publish) string {
	return filepath.Join(engine.RunDir, lab, naming.PublishPidName(node, p.HostIP.String(), p.HostPort, p.Proto))
}

// forwardArgs is the forwarder's command line after the program name
// (read back by parseForward).
func forwardArgs(lab, node string, p *planner.Publish, pidFile string) []string {
	dial := make([]string, len(p.Dial))
	for i, a := range p.Dial {
		dial[i] = a.String()
	}
	return []string{cmdForward, "--proto", p.Proto,
		"--listen", net.JoinHostPort(p.HostIP.String(), strconv.Itoa(p.HostPort)),
		"--container", naming.Container(lab, node), "--port", strconv.Itoa(p.NodePort),
		"--dial", strings.Join(dial, ","), "--pidfile", pidFile}
}

// EnsureForwarder starts the forwarder of node's published port unless it
// runs with the same command line; one started for another configuration
// (or by an older netlab) is replaced.
func EnsureForwarder(lab, node string, p *planner.Publish, self string) (changed bool, err error) {
	pidFile := forwardPidFile(lab, node, p)
	args := forwardArgs(lab, node, p, pidFile)
	listen := fmt.Sprintf("%s:%d/%s", p.HostIP, p.HostPort, p.Proto)
	if pid, ok := Running(pidFile); ok {
		if slices.Equal(Args(pid), args) {
			return false, nil
		}
		if err := Stop(pid, pidFile); err != nil {
			return false, fmt.Errorf("publish %s: %w", listen, err)
		}
	}
	if err := Start(pidFile, self, args...); err != nil {
		return false, fmt.Errorf("publish %s: %w", listen, err)
	}
	return true, nil
}

// Forward is the forwarder's main loop. It writes pidFile once it listens
// and returns when ctx ends.
func Forward(ctx context.Context, f Forwarding, pidFile string) error {
	if len(f.Dial) == 0 {
		return fmt.Errorf("no address to dial in %s", f.Container)
	}
	var ln io.Closer
	var serve func(engine.Runtime) error
	switch f.Proto {
	case "tcp":
		l, err := net.Listen("tcp", f.Listen)
		if err != nil {
			return err
		}
		ln, serve = l, func(d engine.Runtime) error { return forwardTCP(ctx, l, d, f) }
	case "udp":
		l, err := net.ListenPacket("udp", f.Listen)
		if err != nil {
			return err
		}
		ln, serve = l, func(d engine.Runtime) error { return forwardUDP(ctx, l.(*net.UDPConn), d, f) }
	default:
		return fmt.Errorf("cannot forward protocol %q: tcp or udp", f.Proto)
	}
	defer ln.Close()
	d, err := runtimes.Open(ctx, "") // a cluster lab's node through the kubeconfig it recorded
	if err != nil {
		return err
	}
	defer d.Close()
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	err = serve(d)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// nodePid finds the process of the node's running container.
func nodePid(ctx context.Context, d engine.Runtime, container string) (int, error) {
	n, err := d.Inspect(ctx, container)
	if err == nil && n.Remote {
		return 0, fmt.Errorf("container %s runs on another host: it is reached through its agent", container)
	}
	if err != nil || n.Pid == 0 {
		return 0, fmt.Errorf("container %s is not running", container)
	}
	return n.Pid, nil
}

// dialTCP connects to the node's port: from inside its namespace, or,
// for a node on another host of a cluster, through its host's agent.
func dialTCP(ctx context.Context, d engine.Runtime, f Forwarding) (io.ReadWriteCloser, error) {
	if a := engine.AgentsOf(d, f.Container); a != nil {
		if n, err := d.Inspect(ctx, f.Container); err == nil && n.Remote {
			return a.DialRemote(ctx, f.Container, "tcp", f.Dial, f.Port)
		}
	}
	pid, err := nodePid(ctx, d, f.Container)
	if err != nil {
		return nil, err
	}
	return DialNode(pid, "tcp", f.Dial, f.Port)
}

func forwardTCP(ctx context.Context, ln net.Listener, d engine.Runtime, f Forwarding) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			up, err := dialTCP(ctx, d, f)
			if err != nil {
				log.Printf("%s: %v", c.RemoteAddr(), err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
			go func() { io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c any) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
}

// DialNode connects, from inside the network namespace of process pid, to
// port at the first of addrs that answers.
func DialNode(pid int, network string, addrs []netip.Addr, port int) (net.Conn, error) {
	var conn net.Conn
	err := inNetNS(pid, func() error {
		var errs []string
		for _, a := range addrs {
			c, err := net.DialTimeout(network, netip.AddrPortFrom(a, uint16(port)).String(), 3*time.Second)
			if err == nil {
				conn = c
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("nothing answers on %s port %d in the node: %s", network, port, strings.Join(errs, "; "))
	})
	return conn, err
}

// inNetNS runs fn in the network namespace of process pid, on a thread of
// its own that ends with it (so no thread goes back to Go's pool from the
// node's namespace). The sockets fn opens keep that namespace.
func inNetNS(pid int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		target, err := netns.GetFromPid(pid)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter the namespace of process %d: %w", pid, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// forwardUDP relays datagrams between host clients and the node, one
// session per client address.
func forwardUDP(ctx context.Context, ln *net.UDPConn, d engine.Runtime, f Forwarding) error {
	var mu sync.Mutex
	sessions := map[netip.AddrPort]chan []byte{}
	buf := make([]byte, 65535)
	for {
		n, client, err := ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		data := bytes.Clone(buf[:n])
		mu.Lock()
		in := sessions[client]
		if in == nil {
			in = make(chan []byte, 64)
			sessions[client] = in
			go func() {
				udpSession(ctx, ln, client, in, d, f)
				mu.Lock()
				delete(sessions, client)
				mu.Unlock()
			}()
		}
		select {
		case in <- data:
		default: // the session is behind: drop, as a full link would
		}
		mu.Unlock()
	}
}

// udpSession carries one client's datagrams (from in) to the node and the
// node's replies back, until it is idle for udpIdle or ctx ends. It sends to
// the first of f.Dial; when the node refuses (port unreachable), it sends the
// last datagram again to the next address.
func udpSession(ctx context.Context, host *net.UDPConn, client netip.AddrPort, in <-chan []byte, d engine.Runtime, f Forwarding) {
	if a := engine.AgentsOf(d, f.Container); a != nil {
		if n, err := d.Inspect(ctx, f.Container); err == nil && n.Remote {
			remoteUDPSession(ctx, host, client, in, a, f)
			return
		}
	}
	pid, err := nodePid(ctx, d, f.Container)
	if err != nil {
		log.Printf("%s/udp: %v", client, err)
		return
	}
	var (
		up       net.Conn
		upErr    chan error // the reader of up ends with its error
		next     int        // the next address of f.Dial to try
		last     []byte     // the client's last datagram
		activity = make(chan struct{}, 1)
	)
	defer func() {
		if up != nil {
			up.Close()
		}
	}()
	// connect opens a socket to the next address that takes one and sends it
	// the last datagram; false when no address is left.
	connect := func() bool {
		for next < len(f.Dial) {
			if up != nil {
				up.Close()
			}
			a := f.Dial[next]
			next++
			c, err := DialNode(pid, "udp", []netip.Addr{a}, f.Port)
			if err != nil {
				up = nil
				continue
			}
			up, upErr = c, make(chan error, 1)
			go func(c net.Conn, errc chan<- error) {
				buf := make([]byte, 65535)
				for {
					n, err := c.Read(buf)
					if err != nil {
						errc <- err
						return
					}
					host.WriteToUDPAddrPort(buf[:n], client)
					select {
					case activity <- struct{}{}:
					default:
					}
				}
			}(c, upErr)
			if last == nil {
				return true
			}
			if _, err := up.Write(last); err == nil {
				return true
			}
		}
		log.Printf("%s/udp: nothing answers on udp port %d in %s (tried %v)", client, f.Port, f.Container, f.Dial)
		return false
	}
	if !connect() {
		return
	}
	idle := time.NewTimer(udpIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			return
		case <-activity:
			idle.Reset(udpIdle)
		case data := <-in:
			idle.Reset(udpIdle)
			last = data
			if !processAlive(pid) {
				// The node has restarted: start again in its new namespace.
				if pid, err = nodePid(ctx, d, f.Container); err != nil {
					log.Printf("%s/udp: %v", client, err)
					return
				}
				next = 0
				if !connect() {
					return
				}
				continue
			}
			if _, err := up.Write(data); err != nil && !(errors.Is(err, syscall.ECONNREFUSED) && connect()) {
				return
			}
		case err := <-upErr:
			if !errors.Is(err, syscall.ECONNREFUSED) || !connect() {
				return
			}
		}
	}
}

// PublishedAddr reads "ADDR:PORT/PROTO" back from a forwarder's pid file
// name (see forwardPidFile).
func PublishedAddr(pidFile string) string {
	base := strings.TrimSuffix(filepath.Base(pidFile), ".pid")
	base = base[strings.Index(base, "@")+1:]
	proto := "tcp"
	if rest, ok := strings.CutSuffix(base, "-udp"); ok {
		base, proto = rest, "udp"
	}
	i := strings.LastIndex(base, "-")
	ip, err := netip.ParseAddr(base[:max(i, 0)])
	port, err2 := strconv.Atoi(base[i+1:])
	if err != nil || err2 != nil {
		return base
	}
	return netip.AddrPortFrom(ip, uint16(port)).String() + "/" + proto
}

// Published lists the pid files of the lab's forwarders, by node.
func Published(lab string) map[string][]string {
	published := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(engine.RunDir, lab, "publish-*@*.pid"))
	for _, f := range files {
		node, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), "publish-"), "@")
		published[node] = append(published[node], f)
	}
	return published
}
