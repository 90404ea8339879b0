// Package capture records the frames of a lab's interface, a node's or a
// network's bridge, from the host: a packet socket opened in the node's
// network namespace (so the image needs no tcpdump), its frames written as
// pcap to a file or a pipe, or summed up a line each. Filters in tcpdump's
// syntax run in the kernel, compiled by the host's tcpdump.
package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/term"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/wire"
)

// Engine is what a capture needs of the container engine: a lab's
// containers and a container's process.
type Engine interface {
	List(ctx context.Context, lab string) ([]engine.Container, error)
	Inspect(ctx context.Context, id string) (engine.Node, error)
}

var _ Engine = (*engine.Host)(nil)

// Options say what to capture and where the frames go.
type Options struct {
	Lab      string
	Target   string        // NODE:IF, or a network's name
	File     string        // write pcap here; "-" is standard output; "" prints a line per frame
	Count    int           // stop after this many frames (0: no limit)
	Duration time.Duration // stop after this long (0: no limit)
	Filter   string        // tcpdump's syntax; "" keeps every frame
	// Frames, when set, receives every frame as it comes (File is not
	// used): a packet view's feed. An error it returns ends the capture.
	Frames func(Frame) error
}

// Frame is one captured frame, as Options.Frames receives it.
type Frame struct {
	Time    time.Time
	Length  int    // its length on the wire
	Data    []byte // as captured (at most Snaplen bytes); the receiver may keep it
	Summary string // the line netlab capture prints for it
}

// ErrUsage marks a capture asked of something that does not exist or
// cannot be done as asked.
var ErrUsage = errors.New("bad capture target")

type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Run captures until ctx ends (Ctrl-C), Count frames have come or Duration
// has passed, then flushes the output and reports on stderr how many
// frames it captured.
func Run(ctx context.Context, eng Engine, opts Options, stdout, stderr io.Writer) error {
	if opts.File == "-" {
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return usagef("-w - writes pcap to standard output, which is a terminal: pipe it (| wireshark -k -i -, | tcpdump -r -) or give a file")
		}
	}
	t, err := resolve(ctx, eng, opts.Lab, opts.Target)
	if err != nil {
		return err
	}
	defer t.close()
	var prog []bpf.RawInstruction
	if opts.Filter != "" {
		p, err := Compile(ctx, opts.Filter, t.linkType)
		if err != nil {
			return err
		}
		prog = p
	}
	var sock source
	if t.remote != nil {
		sock, err = t.remote(ctx, prog)
	} else {
		sock, err = Open(t.nsHandle(), t.desc, t.index, prog)
	}
	if err != nil {
		return err
	}
	defer sock.Close()

	out, err := newSink(opts.File, stdout, t.linkType)
	if opts.Frames != nil {
		out, err = frameSink(opts.Frames, t.linkType), nil
	}
	if err != nil {
		return err
	}
	filter := ""
	if opts.Filter != "" {
		filter = fmt.Sprintf(", filter %q", opts.Filter)
	}
	fmt.Fprintf(stderr, "capturing on %s of lab %s (%s%s); Ctrl-C stops\n", t.desc, opts.Lab, t.linkType, filter)

	// A node that stops or restarts leaves its old namespace alive as long
	// as the socket holds it, and nothing more comes: end the capture.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if t.gone != nil {
		go watch(runCtx, t.gone, func() { cancel(errNodeGone) })
	}
	n, readErr := loop(runCtx, sock, opts, out.packet)
	flushErr := out.close()
	fmt.Fprintf(stderr, "%d packet%s captured\n", n, plural(n))
	if d := sock.Drops(); d > 0 {
		fmt.Fprintf(stderr, "%d packet%s dropped by the kernel: the output was too slow\n", d, plural(d))
	}
	if errors.Is(context.Cause(runCtx), errNodeGone) {
		return fmt.Errorf("capture on %s of lab %s ended: the node stopped or restarted; capture again once netlab up has rewired it", t.desc, opts.Lab)
	}
	if errors.Is(readErr, syscall.ENETDOWN) || errors.Is(readErr, syscall.ENXIO) {
		return fmt.Errorf("capture on %s of lab %s ended: the interface went down or away (did the node restart?)", t.desc, opts.Lab)
	}
	return errors.Join(readErr, flushErr)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

var errNodeGone = errors.New("the node stopped or restarted")

// watch calls stop once gone says so, checking twice a second until ctx ends.
func watch(ctx context.Context, gone func() bool, stop func()) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if gone() {
				stop()
				return
			}
		}
	}
}

// loop hands frames to handle until ctx ends, the count is reached or the
// duration has passed, and returns how many it handed over.
func loop(ctx context.Context, sock source, opts Options, handle func([]byte, CaptureInfo) error) (int, error) {
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, sock.Stop)
	defer stop()
	n := 0
	for opts.Count <= 0 || n < opts.Count {
		data, ci, err := sock.Read()
		if errors.Is(err, ErrStopped) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if err := handle(data, ci); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sink is where frames go: a pcap stream or summary lines.
type sink struct {
	packet func([]byte, CaptureInfo) error
	close  func() error
}

// frameSink hands each frame to frames, with its summary line.
func frameSink(frames func(Frame) error, lt LinkType) *sink {
	return &sink{
		packet: func(data []byte, ci CaptureInfo) error {
			return frames(Frame{Time: ci.Timestamp, Length: ci.Length, Data: slices.Clone(data), Summary: Summary(data, ci, lt)})
		},
		close: func() error { return nil },
	}
}

func newSink(file string, stdout io.Writer, lt LinkType) (*sink, error) {
	if file == "" {
		return &sink{
			packet: func(data []byte, ci CaptureInfo) error {
				_, err := fmt.Fprintln(stdout, Summary(data, ci, lt))
				return err
			},
			close: func() error { return nil },
		}, nil
	}
	w, closeFile := stdout, func() error { return nil }
	if file != "-" {
		f, err := os.Create(file)
		if err != nil {
			return nil, fmt.Errorf("capture file: %w", err)
		}
		w, closeFile = f, f.Close
	}
	buf := bufio.NewWriterSize(w, 1<<16)
	pw := newPcapWriter(buf)
	if err := pw.WriteFileHeader(Snaplen, lt); err != nil {
		closeFile()
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	streaming := file == "-"
	if err := buf.Flush(); err != nil { // a reader on a pipe learns the link type at once
		closeFile()
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	return &sink{
		packet: func(data []byte, ci CaptureInfo) error {
			if err := pw.WritePacket(ci, data); err != nil {
				return fmt.Errorf("write pcap: %w", err)
			}
			if streaming {
				return buf.Flush()
			}
			return nil
		},
		close: func() error {
			err := buf.Flush()
			if cerr := closeFile(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", file, err)
			}
			return nil
		},
	}, nil
}

// target is the interface a capture reads.
type target struct {
	desc     string   // "a:eth0" or "network lan"
	ns       *wire.NS // the node's namespace; nil: the host's
	index    int
	linkType LinkType
	gone     func() bool // tells that the node's process left its namespace; nil on the host
	// remote opens the stream of a node on another host (ns is nil).
	remote func(ctx context.Context, prog []bpf.RawInstruction) (source, error)
}

func (t *target) nsHandle() netns.NsHandle {
	if t.ns == nil {
		return netns.None()
	}
	return netns.NsHandle(t.ns.FD())
}

func (t *target) close() { t.ns.Close() }

// resolve finds NODE:IF in its node's namespace, or a network's bridge on
// the host.
func resolve(ctx context.Context, eng Engine, lab, what string) (*target, error) {
	node, iface, isIface := strings.Cut(what, ":")
	if !isIface {
		return resolveNetwork(ctx, eng, lab, what)
	}
	list, err := eng.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, c := range list {
		if c.Node != node {
			known = append(known, c.Node)
			continue
		}
		n, err := eng.Inspect(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if a := engine.AgentsOf(eng, c.ID); a != nil && n.Remote {
			id := c.ID
			return &target{desc: what, linkType: LinkTypeEthernet, remote: func(ctx context.Context, prog []bpf.RawInstruction) (source, error) {
				filter := ""
				if prog != nil {
					filter = FormatDDD(prog)
				}
				rc, err := a.CaptureRemote(ctx, id, iface, filter)
				if err != nil {
					return nil, err
				}
				return newRemoteSource(rc)
			}}, nil
		}
		if n.Remote {
			return nil, engine.RemoteError(node, "a capture")
		}
		if n.Pid == 0 {
			return nil, fmt.Errorf("node %s of lab %s is not running (%s); start it with netlab up", node, lab, c.State)
		}
		ns, err := wire.OpenNS(n.Pid)
		if err != nil {
			return nil, err
		}
		l, err := ns.Handle().LinkByName(iface)
		if err != nil {
			names := linkNames(ns.Handle())
			ns.Close()
			return nil, usagef("node %s has no interface %q (known: %s)", node, iface, strings.Join(names, ", "))
		}
		lt, err := linkType(l)
		if err != nil {
			ns.Close()
			return nil, err
		}
		gone := func() bool {
			now, err := nodeinit.Instance(strconv.Itoa(n.Pid))
			return err != nil || now != n.NetNS
		}
		return &target{desc: what, ns: ns, index: l.Attrs().Index, linkType: lt, gone: gone}, nil
	}
	if len(list) == 0 {
		return nil, usagef("no lab %q on this host (netlab ls lists them)", lab)
	}
	return nil, usagef("lab %s has no node %q (known: %s)", lab, node, strings.Join(known, ", "))
}

func resolveNetwork(ctx context.Context, eng Engine, lab, network string) (*target, error) {
	name := naming.Bridge(lab, network)
	if l, err := netlink.LinkByName(name); err == nil && l.Attrs().Alias == naming.BridgeAlias(lab, network) {
		return &target{desc: "network " + network + " (bridge " + name + ")", index: l.Attrs().Index, linkType: LinkTypeEthernet}, nil
	}
	links, err := wire.HostLinks(lab)
	if err != nil {
		return nil, err
	}
	var networks []string
	for _, l := range links {
		if n, ok := strings.CutPrefix(l.Attrs().Alias, naming.BridgeAlias(lab, "")); ok {
			networks = append(networks, n)
		}
	}
	slices.Sort(networks)
	list, err := eng.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 && len(links) == 0 {
		return nil, usagef("no lab %q on this host (netlab ls lists them)", lab)
	}
	for _, c := range list {
		if c.Node == network {
			return nil, usagef("%s is a node: name one of its interfaces, as %s:eth0", network, network)
		}
	}
	if len(networks) == 0 {
		return nil, usagef("lab %s has no network %q (it has none: capture on a node's interface, NODE:IF)", lab, network)
	}
	return nil, usagef("lab %s has no network %q (known: %s; or a node's interface, NODE:IF)", lab, network, strings.Join(networks, ", "))
}

func linkNames(h *netlink.Handle) []string {
	links, _ := h.LinkList()
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

// linkType is the pcap link type of an interface's frames as a packet
// socket reads them.
func linkType(l netlink.Link) (LinkType, error) {
	switch l.Attrs().EncapType {
	case "ether", "loopback":
		return LinkTypeEthernet, nil
	case "none":
		return LinkTypeRaw, nil
	}
	return 0, usagef("%s is a %s interface; netlab capture reads Ethernet and IP interfaces", l.Attrs().Name, l.Attrs().EncapType)
}
