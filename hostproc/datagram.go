package hostproc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/netlab/netlab/engine"
)

// A published UDP port of a node on another host of a cluster reaches
// the node through an exec into its host's agent, a byte stream: each
// datagram on it is its length (two bytes, big-endian) and its bytes.

// writeDatagram writes one datagram to a stream.
func writeDatagram(w io.Writer, p []byte) error {
	if len(p) > 0xffff {
		return fmt.Errorf("datagram of %d bytes: at most 65535", len(p))
	}
	frame := make([]byte, 2+len(p))
	binary.BigEndian.PutUint16(frame, uint16(len(p)))
	copy(frame[2:], p)
	_, err := w.Write(frame)
	return err
}

// readDatagram reads one datagram from a stream into buf (65535 bytes).
func readDatagram(r io.Reader, buf []byte) (int, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return 0, err
	}
	size := int(binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, buf[:size]); err != nil {
		return 0, io.ErrUnexpectedEOF
	}
	return size, nil
}

// ServeUDP is the agent's end of a published UDP port's session: the
// datagrams read from in go to port at the first of addrs in the network
// namespace of process pid, and what it answers goes to out, until in
// ends. When the node refuses (port unreachable), the last datagram goes
// to the next address; when none is left, it ends.
func ServeUDP(pid int, addrs []netip.Addr, port int, in io.Reader, out io.Writer) error {
	var (
		mu   sync.Mutex
		up   net.Conn
		next int
		last []byte
	)
	// connect opens a socket to the next address (under mu).
	connect := func() error {
		if up != nil {
			up.Close()
			up = nil
		}
		for next < len(addrs) {
			a := addrs[next]
			next++
			c, err := DialNode(pid, "udp", []netip.Addr{a}, port)
			if err != nil {
				continue
			}
			up = c
			if last != nil {
				c.Write(last)
			}
			return nil
		}
		return fmt.Errorf("nothing answers on udp port %d in the node (tried %v)", port, addrs)
	}
	mu.Lock()
	err := connect()
	c := up
	mu.Unlock()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { // the node's answers
		buf := make([]byte, 65535)
		for {
			n, err := c.Read(buf)
			if errors.Is(err, syscall.ECONNREFUSED) {
				mu.Lock()
				err = connect()
				c = up
				mu.Unlock()
				if err == nil {
					continue
				}
			}
			if err != nil {
				done <- err
				return
			}
			if err := writeDatagram(out, buf[:n]); err != nil {
				done <- err
				return
			}
		}
	}()
	r := bufio.NewReader(in)
	buf := make([]byte, 65535)
	for {
		n, err := readDatagram(r, buf)
		if err != nil {
			mu.Lock()
			if up != nil {
				up.Close()
			}
			mu.Unlock()
			if err == io.EOF {
				return nil
			}
			return err
		}
		mu.Lock()
		last = append(last[:0], buf[:n]...)
		if up != nil {
			up.Write(last)
		}
		mu.Unlock()
		select {
		case err := <-done:
			return err
		default:
		}
	}
}

// remoteUDPSession carries one client's datagrams (from in) to a node on
// another host through its agent (engine.Agents' DialRemote, "udp"), and
// the node's answers back, until it is idle for udpIdle, the agent ends
// the session, or ctx ends.
func remoteUDPSession(ctx context.Context, host *net.UDPConn, client netip.AddrPort, in <-chan []byte, a engine.Agents, f Forwarding) {
	up, err := a.DialRemote(ctx, f.Container, "udp", f.Dial, f.Port)
	if err != nil {
		log.Printf("%s/udp: %v", client, err)
		return
	}
	defer up.Close()
	activity := make(chan struct{}, 1)
	ended := make(chan error, 1)
	go func() {
		r := bufio.NewReader(up)
		buf := make([]byte, 65535)
		for {
			n, err := readDatagram(r, buf)
			if err != nil {
				ended <- err
				return
			}
			host.WriteToUDPAddrPort(buf[:n], client)
			select {
			case activity <- struct{}{}:
			default:
			}
		}
	}()
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
		case err := <-ended:
			if err != io.EOF {
				log.Printf("%s/udp: %s: %v", client, f.Container, err)
			}
			return
		case data := <-in:
			idle.Reset(udpIdle)
			if err := writeDatagram(up, data); err != nil {
				log.Printf("%s/udp: %s: %v", client, f.Container, err)
				return
			}
		}
	}
}
