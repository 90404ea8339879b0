package tests

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureProc is a netlab capture running in the background.
type captureProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr lockedBuffer
	done   chan struct{}
	code   int
}

// startCapture starts netlab capture ARGS and waits until it listens;
// the process is killed at the end of the test if it still runs.
func startCapture(t *testing.T, args ...string) *captureProc {
	t.Helper()
	gate()
	p := &captureProc{t: t, cmd: exec.Command(netlabBin, append([]string{"capture"}, args...)...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stderr.String(), "capturing on"); time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("netlab capture %v ended before it listened: exit %d\n%s", args, p.code, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("netlab capture %v does not listen after 10 s:\n%s", args, p.stderr.String())
		}
	}
	return p
}

// wait waits for the capture to end by itself and returns its exit code.
func (p *captureProc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(15 * time.Second):
		p.t.Fatalf("netlab capture %v still runs after 15 s:\n%s", p.cmd.Args[2:], p.stderr.String())
		return -1
	}
}

// readPcap reads a pcap stream back and returns its link type and frames.
func readPcap(t *testing.T, r io.Reader) (layers.LinkType, []gopacket.Packet) {
	t.Helper()
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		t.Fatalf("not a pcap: %v", err)
	}
	var out []gopacket.Packet
	for {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("pcap packet %d: %v", len(out)+1, err)
		}
		p := gopacket.NewPacket(data, pr.LinkType(), gopacket.Default)
		p.Metadata().CaptureInfo = ci
		out = append(out, p)
	}
	return pr.LinkType(), out
}

func countICMP(ps []gopacket.Packet) int {
	n := 0
	for _, p := range ps {
		if p.Layer(layers.LayerTypeICMPv4) != nil {
			n++
		}
	}
	return n
}

func TestCaptureOnALink(t *testing.T) {
	parallel(t)
	l := up(t, p2p)
	file := filepath.Join(t.TempDir(), "a.pcap")
	toFile := startCapture(t, l.name, "a:eth0", "-w", file, "--count", "4", "icmp")
	lines := startCapture(t, l.name, "b:eth0", "--count", "2", "icmp") // a line a packet, on the other end
	allFile := filepath.Join(t.TempDir(), "all.pcap")
	all := startCapture(t, l.name, "a:eth0", "-w", allFile)
	if out, code := l.exec("a", "ping", "-c", "2", "10.1.1.2"); code != 0 {
		t.Fatalf("ping: %s", out)
	}

	if code := toFile.wait(); code != 0 || !strings.Contains(toFile.stderr.String(), "4 packets captured") {
		t.Fatalf("capture to a file: exit %d\n%s", code, toFile.stderr.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lt, packets := readPcap(t, f)
	if lt != layers.LinkTypeEthernet || len(packets) != 4 || countICMP(packets) != 4 {
		t.Errorf("%s: link type %s, %d packets, %d ICMP; want Ethernet, 4 ICMP (the filter keeps ICMP only)", file, lt, len(packets), countICMP(packets))
	}
	// tcpdump reads it as any pcap: echo requests and replies.
	if out, err := exec.Command("tcpdump", "-nr", file).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "ICMP echo request") || !strings.Contains(string(out), "ICMP echo reply") {
		t.Errorf("tcpdump -r %s: %v\n%s", file, err, out)
	}

	if code := lines.wait(); code != 0 {
		t.Fatalf("capture with lines: exit %d\n%s", code, lines.stderr.String())
	}
	want := []string{"IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id ", "IP 10.1.1.2 > 10.1.1.1: ICMP echo reply, id "}
	got := strings.Split(strings.TrimSpace(lines.stdout.String()), "\n")
	if len(got) != 2 || !strings.Contains(got[0], want[0]) || !strings.Contains(got[1], want[1]) || !strings.HasSuffix(got[1], ", seq 0, length 64") {
		t.Errorf("summary lines:\n%s\nwant an echo request and its reply, like %q", lines.stdout.String(), want)
	}

	// Ctrl-C stops a capture without a count, which flushes its file.
	all.cmd.Process.Signal(syscall.SIGINT)
	if code := all.wait(); code != 0 || !strings.Contains(all.stderr.String(), "packets captured") {
		t.Fatalf("capture stopped by Ctrl-C: exit %d\n%s", code, all.stderr.String())
	}
	f2, err := os.Open(allFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if _, packets := readPcap(t, f2); countICMP(packets) != 4 {
		t.Errorf("capture without a filter: %d ICMP packets of %d, want 4", countICMP(packets), len(packets))
	}
}

func TestCaptureOnANetwork(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.5.0.0/24}
nodes:
  h1: {interfaces: {eth0: {network: lan}}}
  h2: {interfaces: {eth0: {network: lan}}}
  h3: {interfaces: {eth0: {network: lan}}}
`)
	// The bridge shows what it forwards between h1 and h2, to standard output.
	stream := startCapture(t, l.name, "lan", "-w", "-", "--count", "4", "icmp", "and", "host", "10.5.0.2")
	quiet := startCapture(t, l.name, "h3:eth0", "--duration", "2s", "icmp")
	if out, code := l.exec("h1", "ping", "-c", "2", "10.5.0.2"); code != 0 {
		t.Fatalf("ping: %s", out)
	}
	if code := stream.wait(); code != 0 {
		t.Fatalf("capture on the network: exit %d\n%s", code, stream.stderr.String())
	}
	lt, packets := readPcap(t, &stream.stdout)
	if lt != layers.LinkTypeEthernet || countICMP(packets) != 4 {
		t.Errorf("-w -: link type %s, %d ICMP packets of %d; want Ethernet, 4", lt, countICMP(packets), len(packets))
	}
	// h3 sees none of it (the bridge learned where h2 is); --duration ends it.
	start := time.Now()
	if code := quiet.wait(); code != 0 || !strings.Contains(quiet.stderr.String(), "0 packets captured") || quiet.stdout.Len() != 0 {
		t.Errorf("capture on h3: exit %d\n%s%s", code, quiet.stdout.String(), quiet.stderr.String())
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("--duration 2s ended after another %s", waited)
	}

	// A node that restarts ends the capture on it, with the count and a reason.
	restarted := startCapture(t, l.name, "h3:eth0")
	l.restart("h3")
	if code := restarted.wait(); code != 1 || !strings.Contains(restarted.stderr.String(), " captured\n") ||
		!strings.Contains(restarted.stderr.String(), "restart") { // "the node stopped or restarted", or its interface went first
		t.Errorf("capture on a node that restarts: exit %d\n%s", code, restarted.stderr.String())
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lan", "bogus", "filter"}, `bad filter "bogus filter": can't parse filter expression: syntax error`},
		{[]string{"h1:eth0", "tcp", "port", "http", "and"}, `bad filter "tcp port http and"`},
		{[]string{"wan"}, `lab ` + l.name + ` has no network "wan" (known: lan;`},
		{[]string{"h1:eth9"}, `node h1 has no interface "eth9" (known: eth0, lo)`},
		{[]string{"h9:eth0"}, `lab ` + l.name + ` has no node "h9" (known: h1, h2, h3)`},
		{[]string{"h1"}, "h1 is a node: name one of its interfaces, as h1:eth0"},
	} {
		r := netlab(t, append([]string{"capture", l.name}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("netlab capture %s: exit %d, %q; want exit 2 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}
