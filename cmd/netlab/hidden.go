package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"strings"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

// runDHCPServer is netlab's DHCP server of a network.
func runDHCPServer(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_dhcpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the server's configuration file")
	if err := fs.Parse(args); err != nil || *config == "" {
		return exitUsage
	}
	if err := provider.RunDHCPServer(ctx, *config, log.New(stderr, "", log.LstdFlags)); err != nil {
		fmt.Fprintf(stderr, "netlab dhcpd %s: %v\n", *config, err)
		return exitFailure
	}
	return exitOK
}

// runRelay is an impaired link's relay process.
func runRelay(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := fs.String("a", "", "host end of the first node's veth")
	b := fs.String("b", "", "host end of the second node's veth")
	var im spec.Impairment
	fs.DurationVar(&im.Delay, "delay", 0, "delay")
	fs.DurationVar(&im.Jitter, "jitter", 0, "jitter")
	fs.Float64Var(&im.LossPercent, "loss", 0, "loss, percent")
	fs.Uint64Var(&im.RateBytes, "rate", 0, "rate, bytes per second")
	pidFile := fs.String("pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if err := provider.RunRelay(ctx, *a, *b, im, *pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab relay %s <~> %s: %v\n", *a, *b, err)
		return exitFailure
	}
	return exitOK
}

// runForward is a published port's forwarder process.
func runForward(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f provider.Forwarding
	fs.StringVar(&f.Proto, "proto", "tcp", "tcp or udp")
	fs.StringVar(&f.Listen, "listen", "", "host address:port")
	fs.StringVar(&f.Container, "container", "", "container name")
	fs.IntVar(&f.Port, "port", 0, "node port")
	dial := fs.String("dial", "127.0.0.1", "addresses to reach the port at in the node, in order, comma-separated")
	pidFile := fs.String("pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	for _, s := range strings.Split(*dial, ",") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			fmt.Fprintf(stderr, "netlab forward: --dial: %v\n", err)
			return exitUsage
		}
		f.Dial = append(f.Dial, a)
	}
	if err := provider.Forward(ctx, f, *pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab forward %s/%s: %v\n", f.Listen, f.Proto, err)
		return exitFailure
	}
	return exitOK
}

// runWatch is a lab's watcher: it rewires nodes that start again.
func runWatch(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("lab", "", "the lab")
	file := fs.String("file", "", "its lab file")
	pidFile := fs.String("pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if err := lab.Watch(ctx, *name, *file, *pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab watch %s: %v\n", *name, err)
		return exitFailure
	}
	return exitOK
}
