package capture

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// icmpDDD is what tcpdump 4.99 (libpcap 1.10) prints for
// tcpdump -ddd -y EN10MB icmp.
const icmpDDD = `6
40 0 0 12
21 0 3 2048
48 0 0 23
21 0 1 1
6 0 0 262144
6 0 0 0
`

var icmpProgram = []bpf.RawInstruction{
	{Op: 40, K: 12}, {Op: 21, Jf: 3, K: 2048}, {Op: 48, K: 23}, {Op: 21, Jf: 1, K: 1}, {Op: 6, K: 262144}, {Op: 6},
}

func TestParseDDD(t *testing.T) {
	prog, err := ParseDDD(icmpDDD)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(prog, icmpProgram) {
		t.Errorf("ParseDDD = %v, want %v", prog, icmpProgram)
	}
}

// The parsed program does what the filter says: it keeps ICMP and drops
// ARP and UDP, run in x/net/bpf's virtual machine as the kernel would.
func TestParsedProgramFilters(t *testing.T) {
	prog, err := ParseDDD(icmpDDD)
	if err != nil {
		t.Fatal(err)
	}
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("cannot disassemble %v", prog)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		keep bool
	}{
		{"icmp", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)}), true},
		{"udp", frame(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}), false},
		{"arp", frame(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: ipA,
			DstHwAddress: macB, DstProtAddress: ipB}, make(gopacket.Payload, 18)), false},
	} {
		n, err := vm.Run(c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (n > 0) != c.keep {
			t.Errorf("%s: the program returns %d, want keep=%v", c.name, n, c.keep)
		}
	}
}

func TestParseDDDErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "no program"},
		{"x\n6 0 0 0", `instruction count "x" is not a number`},
		{"0\n", "0 instructions"},
		{"5000\n", "5000 instructions"},
		{"2\n6 0 0 0\n", "announces 2 instructions, 1 follow"},
		{"1\n6 0 0\n", `line 2: "6 0 0" is not "code jt jf k"`},
		{"1\n6 0 256 0\n", `line 2: "256" is not a 8-bit number`},
		{"1\n65536 0 0 0\n", `"65536" is not a 16-bit number`},
		{"1\n6 0 0 -1\n", `"-1" is not a 32-bit number`},
		{"(000) ldh [12]\n", "is not a number"}, // tcpdump -d, not -ddd
	} {
		_, err := ParseDDD(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseDDD(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

// Compile needs tcpdump; without it the test says so and stops.
func TestCompileWithTcpdump(t *testing.T) {
	if _, err := findTcpdump(); err != nil {
		t.Skip("tcpdump is not installed (scripts/setup.sh installs it)")
	}
	ctx := context.Background()
	prog, err := Compile(ctx, "icmp", LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(prog, icmpProgram) {
		t.Errorf("Compile(icmp) = %v, want %v", prog, icmpProgram)
	}
	_, err = Compile(ctx, "bogus filter", LinkTypeEthernet)
	if !errors.Is(err, ErrFilter) || !strings.Contains(err.Error(), `"bogus filter"`) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("Compile(bogus filter) = %v, want a bad filter error naming it", err)
	}
	if _, err := Compile(ctx, "icmp", LinkTypeRaw); err != nil {
		t.Errorf("Compile(icmp) for raw IP: %v", err)
	}
}

func TestCompileWithoutTcpdump(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := tcpdumpPaths
	tcpdumpPaths = nil
	defer func() { tcpdumpPaths = saved }()
	_, err := Compile(context.Background(), "icmp", LinkTypeEthernet)
	if err == nil || !strings.Contains(err.Error(), "apt-get install tcpdump") {
		t.Errorf("Compile without tcpdump = %v, want an error saying what to install", err)
	}
}
