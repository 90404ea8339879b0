package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// ErrFilter marks a filter expression that cannot be compiled.
var ErrFilter = errors.New("bad filter")

// maxInstructions is the kernel's limit on a socket filter (BPF_MAXINSNS).
const maxInstructions = 4096

// Compile turns a filter in tcpdump's syntax (pcap-filter(7)) into a
// classic BPF program for frames of link type lt, with the host's tcpdump:
// libpcap's compiler is the only one there is, and netlab, a static
// binary without cgo, cannot link it.
func Compile(ctx context.Context, filter string, lt LinkType) ([]bpf.RawInstruction, error) {
	dlt, ok := dltNames[lt]
	if !ok {
		return nil, fmt.Errorf("%w %q: no filters on %s interfaces", ErrFilter, filter, lt)
	}
	tcpdump, err := findTcpdump()
	if err != nil {
		return nil, fmt.Errorf("filter %q: netlab compiles filters with tcpdump (libpcap's compiler), which is not installed: apt-get install tcpdump", filter)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tcpdump, "-ddd", "-y", dlt, "--", filter)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		why := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "tcpdump: "))
		if why == "" {
			why = err.Error()
		}
		return nil, fmt.Errorf("%w %q: %s", ErrFilter, filter, why)
	}
	prog, err := ParseDDD(stdout.String())
	if err != nil {
		return nil, fmt.Errorf("filter %q: read what %s -ddd printed: %w", filter, tcpdump, err)
	}
	return prog, nil
}

// dltNames are the link types tcpdump -y knows, by pcap link type.
var dltNames = map[LinkType]string{
	LinkTypeEthernet: "EN10MB",
	LinkTypeRaw:      "RAW",
}

// tcpdumpPaths are where tcpdump is looked for when it is not on PATH
// (sudo's PATH may lack /usr/sbin).
var tcpdumpPaths = []string{"/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/usr/local/bin/tcpdump", "/usr/local/sbin/tcpdump"}

func findTcpdump() (string, error) {
	if p, err := exec.LookPath("tcpdump"); err == nil {
		return p, nil
	}
	for _, p := range tcpdumpPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// ParseDDD reads a program as `tcpdump -ddd` prints it: the number of
// instructions on the first line, then one instruction a line, as the
// decimal numbers "code jt jf k".
func ParseDDD(text string) ([]bpf.RawInstruction, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil, errors.New("no program")
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("line 1: instruction count %q is not a number", lines[0])
	}
	if n < 1 || n > maxInstructions {
		return nil, fmt.Errorf("line 1: %d instructions; a socket filter has 1 to %d", n, maxInstructions)
	}
	if len(lines)-1 != n {
		return nil, fmt.Errorf("line 1 announces %d instructions, %d follow", n, len(lines)-1)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: %q is not \"code jt jf k\"", i+2, line)
		}
		var v [4]uint64
		for j, bits := range []int{16, 8, 8, 32} {
			if v[j], err = strconv.ParseUint(f[j], 10, bits); err != nil {
				return nil, fmt.Errorf("line %d: %q is not a %d-bit number", i+2, f[j], bits)
			}
		}
		prog[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return prog, nil
}
