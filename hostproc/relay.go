package hostproc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// EnsureRelay makes an impaired link: each node end a veth pair into the
// host, and a relay process between the two host ends. If a pair had to be
// made again (a node restarted), the relay is restarted on the new ends.
func EnsureRelay(host *netlink.Handle, lab string, r *planner.Relay, ns [2]*wire.NS, self string) (changed bool, err error) {
	for k := 0; k < 2; k++ {
		c, err := wire.EnsureHostVeth(host, r.Host[k], r.Ends[k], ns[k], 0)
		if err != nil {
			return changed, err
		}
		changed = changed || c
		// The host ends carry frames only: no addresses, no IPv6 chatter.
		os.WriteFile("/proc/sys/net/ipv6/conf/"+r.Host[k].Name+"/disable_ipv6", []byte("1"), 0o644)
	}
	return StartRelay(lab, r, self, changed)
}

// StartRelay starts the relay between a link's two host ends, which
// exist, unless it runs with the same arguments on ends that did not
// change (a relay running on older ones, or with other impairments, is
// stopped first).
func StartRelay(lab string, r *planner.Relay, self string, changed bool) (bool, error) {
	pidFile := filepath.Join(engine.RunDir, lab, r.PidName)
	args := relayArgs(r, pidFile)
	if pid, ok := Running(pidFile); ok {
		if !changed && slices.Equal(Args(pid), args) {
			return false, nil
		}
		unix.Kill(pid, unix.SIGTERM) // new ends, or new impairments (netlab impair)
		waitGone(pid)
	}
	if err := Start(pidFile, self, args...); err != nil {
		return changed, fmt.Errorf("relay %s <~> %s: %w", r.Host[0].Name, r.Host[1].Name, err)
	}
	return true, nil
}

// relayArgs is the relay's command line after the program name (read
// back by parseRelay).
func relayArgs(r *planner.Relay, pidFile string) []string {
	im := r.Spec
	return []string{cmdRelay, "--a", r.Host[0].Name, "--b", r.Host[1].Name,
		"--delay", im.Delay.String(), "--jitter", im.Jitter.String(),
		"--loss", strconv.FormatFloat(im.LossPercent, 'g', -1, 64), "--rate", strconv.FormatUint(im.RateBytes, 10),
		"--pidfile", pidFile}
}

// RemoveRelay takes a link off the relay path, when its impairments were
// cleared: the relay stops and its host ends go, and with them the node
// ends, which wire.EnsureLink then makes again as a plain veth pair.
func RemoveRelay(host *netlink.Handle, lab string, v *planner.Veth) (removed bool, err error) {
	pidFile := filepath.Join(engine.RunDir, lab, "relay-"+naming.Relay(lab, v.A.Node, v.A.Name)+".pid")
	if pid, ok := Running(pidFile); ok {
		unix.Kill(pid, unix.SIGTERM)
		waitGone(pid)
		os.Remove(pidFile)
		removed = true
	}
	for _, end := range []planner.VethEnd{v.A, v.B} {
		name := naming.Relay(lab, end.Node, end.Name)
		l, err := wire.LinkByName(host, name)
		if err != nil {
			return removed, err
		}
		if l != nil && naming.OwnedBy(l.Attrs().Alias, lab) {
			if err := host.LinkDel(l); err != nil {
				return removed, fmt.Errorf("remove relay end %s: %w", name, err)
			}
			removed = true
		}
	}
	return removed, nil
}

// vnetHdrLen is the virtio-net header that PACKET_VNET_HDR puts before each
// frame: it carries GSO and checksum state, so that large segments pass the
// relay whole and the receiving side segments them as it would have.
const vnetHdrLen = 10

// packetSocket opens a raw packet socket bound to interface name.
func packetSocket(name string) (int, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return -1, err
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, fmt.Errorf("packet socket on %s: %w", name, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("vnet header on %s: %w", name, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind to %s: %w", name, err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Impairment is what a relay does to the frames it carries: the planner's
// impairment of the link, as the relay's command line gives it.
type Impairment struct {
	Delay, Jitter time.Duration
	LossPercent   float64 // 0-100
	RateBytes     uint64  // bytes per second; 0: no limit
}

// RunRelay carries frames between interfaces a and b in both directions,
// impaired as im says, until ctx ends. It writes pidFile once it relays.
func RunRelay(ctx context.Context, a, b string, im Impairment, pidFile string) error {
	fa, err := packetSocket(a)
	if err != nil {
		return err
	}
	fb, err := packetSocket(b)
	if err != nil {
		unix.Close(fa)
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- pump(fa, fb, im) }()
	go func() { errc <- pump(fb, fa, im) }()
	select {
	case <-ctx.Done():
		unix.Close(fa)
		unix.Close(fb)
		return nil
	case err := <-errc:
		return err
	}
}

// maxQueue is how long frames may wait for a rate-limited line.
const maxQueue = 100 * time.Millisecond

type frame struct {
	data []byte
	due  time.Time
}

// pump reads frames arriving on src and sends them out of dst: each one
// dropped with the loss probability, held for the delay plus or minus the
// jitter, and paced to the rate. Frames keep their order; a full queue
// drops at its tail, as a router's would.
func pump(src, dst int, im Impairment) error {
	queue := make(chan frame, 4096)
	go func() {
		for f := range queue {
			if d := time.Until(f.due); d > 0 {
				time.Sleep(d)
			}
			unix.Write(dst, f.data) // a frame the peer cannot take is lost, as on a wire
		}
	}()
	var paced time.Time // when the line is free again, for the rate
	buf := make([]byte, 65536+vnetHdrLen)
	for {
		n, from, err := unix.Recvfrom(src, buf, 0)
		if err != nil {
			close(queue)
			return fmt.Errorf("receive: %w", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own sends on this interface
		}
		if im.LossPercent > 0 && rand.Float64()*100 < im.LossPercent {
			continue
		}
		// The frame leaves when the line has sent it (rate), then travels
		// for the delay, give or take the jitter.
		now := time.Now()
		sent := now
		if im.RateBytes > 0 {
			if paced.Before(now) {
				paced = now
			}
			if paced.Sub(now) > maxQueue {
				continue // the line is busy for too long: drop, as tbf would
			}
			paced = paced.Add(time.Duration(float64(n-vnetHdrLen) / float64(im.RateBytes) * float64(time.Second)))
			sent = paced
		}
		due := sent.Add(im.Delay)
		if im.Jitter > 0 {
			due = due.Add(time.Duration(rand.Int64N(int64(2*im.Jitter)+1)) - im.Jitter)
		}
		select {
		case queue <- frame{data: append([]byte(nil), buf[:n]...), due: due}:
		default: // tail drop
		}
	}
}

// RelayImpairments reads what each running relay of the lab does, by the
// names of its host ends: "delay 40ms, jitter 5ms, loss 1%, rate 1250000 B/s".
func RelayImpairments(lab string) map[string]string {
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(engine.RunDir, lab, "relay-*.pid"))
	for _, f := range files {
		pid, ok := Running(f)
		if !ok {
			continue
		}
		args := Args(pid)
		val := map[string]string{}
		for i := 0; i+1 < len(args); i++ {
			if strings.HasPrefix(args[i], "--") {
				val[strings.TrimPrefix(args[i], "--")] = args[i+1]
			}
		}
		var parts []string
		if v := val["delay"]; v != "" && v != "0s" {
			parts = append(parts, "delay "+v)
		}
		if v := val["jitter"]; v != "" && v != "0s" {
			parts = append(parts, "jitter "+v)
		}
		if v := val["loss"]; v != "" && v != "0" {
			parts = append(parts, "loss "+v+"%")
		}
		if v := val["rate"]; v != "" && v != "0" {
			parts = append(parts, "rate "+v+" B/s")
		}
		desc := strings.Join(parts, ", ")
		out[val["a"]], out[val["b"]] = desc, desc
	}
	return out
}
