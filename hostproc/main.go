// Package hostproc runs the helper processes netlab keeps on the host for
// a lab: a published port's forwarder, an impaired link's relay, and a
// network's DHCP server. It owns both ends of each one's command line:
// the Ensure functions that start a helper with its arguments, and Main,
// which the netlab binary runs as that helper and which reads them back.
// Each helper has a pid file and a log in the lab's run directory.
package hostproc

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"strings"
)

// The helpers' commands: netlab runs as a helper when its first argument
// is one of them.
const (
	cmdForward = "_forward"
	cmdRelay   = "_relay"
	cmdDHCPD   = "_dhcpd"
)

// Exit codes, as netlab's: 2 is a bad command line.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Is tells whether name is the command of a helper process.
func Is(name string) bool {
	return name == cmdForward || name == cmdRelay || name == cmdDHCPD
}

// Main runs the helper process name (see Is) with its arguments until ctx
// ends, and returns its exit code. Errors go to stderr.
func Main(ctx context.Context, name string, args []string, stderr io.Writer) int {
	switch name {
	case cmdForward:
		return mainForward(ctx, args, stderr)
	case cmdRelay:
		return mainRelay(ctx, args, stderr)
	case cmdDHCPD:
		return mainDHCPD(ctx, args, stderr)
	}
	fmt.Fprintf(stderr, "netlab: %q is no helper process\n", name)
	return exitUsage
}

// mainDHCPD is netlab's DHCP server of a network.
func mainDHCPD(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(cmdDHCPD, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the server's configuration file")
	if err := fs.Parse(args); err != nil || *config == "" {
		return exitUsage
	}
	if err := RunDHCPServer(ctx, *config, log.New(stderr, "", log.LstdFlags)); err != nil {
		fmt.Fprintf(stderr, "netlab dhcpd %s: %v\n", *config, err)
		return exitFailure
	}
	return exitOK
}

// mainRelay is an impaired link's relay process.
func mainRelay(ctx context.Context, args []string, stderr io.Writer) int {
	a, b, im, pidFile, ok := parseRelay(args, stderr)
	if !ok {
		return exitUsage
	}
	if err := RunRelay(ctx, a, b, im, pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab relay %s <~> %s: %v\n", a, b, err)
		return exitFailure
	}
	return exitOK
}

// parseRelay reads a relay's command line (relayArgs'): its two host
// ends, its impairments and its pid file.
func parseRelay(args []string, stderr io.Writer) (a, b string, im Impairment, pidFile string, ok bool) {
	fs := flag.NewFlagSet(cmdRelay, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a, "a", "", "host end of the first node's veth")
	fs.StringVar(&b, "b", "", "host end of the second node's veth")
	fs.DurationVar(&im.Delay, "delay", 0, "delay")
	fs.DurationVar(&im.Jitter, "jitter", 0, "jitter")
	fs.Float64Var(&im.LossPercent, "loss", 0, "loss, percent")
	fs.Uint64Var(&im.RateBytes, "rate", 0, "rate, bytes per second")
	fs.StringVar(&pidFile, "pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return "", "", Impairment{}, "", false
	}
	return a, b, im, pidFile, true
}

// mainForward is a published port's forwarder process.
func mainForward(ctx context.Context, args []string, stderr io.Writer) int {
	f, pidFile, ok := parseForward(args, stderr)
	if !ok {
		return exitUsage
	}
	if err := Forward(ctx, f, pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab forward %s/%s: %v\n", f.Listen, f.Proto, err)
		return exitFailure
	}
	return exitOK
}

// parseForward reads a forwarder's command line (forwardArgs'): what it
// forwards and its pid file.
func parseForward(args []string, stderr io.Writer) (f Forwarding, pidFile string, ok bool) {
	fs := flag.NewFlagSet(cmdForward, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.Proto, "proto", "tcp", "tcp or udp")
	fs.StringVar(&f.Listen, "listen", "", "host address:port")
	fs.StringVar(&f.Container, "container", "", "container name")
	fs.IntVar(&f.Port, "port", 0, "node port")
	dial := fs.String("dial", "127.0.0.1", "addresses to reach the port at in the node, in order, comma-separated")
	fs.StringVar(&pidFile, "pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return f, "", false
	}
	for _, s := range strings.Split(*dial, ",") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			fmt.Fprintf(stderr, "netlab forward: --dial: %v\n", err)
			return f, "", false
		}
		f.Dial = append(f.Dial, a)
	}
	return f, pidFile, true
}
