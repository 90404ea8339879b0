package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

// runInit is a node's first process (netlab bind-mounted as its init): it
// waits until the host has wired the node, that is until the ready file
// holds the id of this process's network namespace, then execs the node's
// own command. After a restart the namespace is new, so it waits again.
func runInit(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "netlab init: no command to run")
		return exitUsage
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: %v\n", err)
		return exitFailure
	}
	ready := provider.ReadyDir + "/ready"
	wake := readyWatch(provider.ReadyDir)
	start := time.Now()
	warned := false
	for {
		if data, err := os.ReadFile(ready); err == nil && string(data) == self {
			break
		}
		if !warned && time.Since(start) > 30*time.Second {
			fmt.Fprintln(stderr, "netlab init: still waiting for the wiring (run netlab up again?)")
			warned = true
		}
		wake()
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: %v\n", err)
		return 127
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintf(stderr, "netlab init: exec %s: %v\n", strings.Join(args, " "), err)
	return 126
}

// readyWatch returns a function that sleeps until something changes in dir
// (inotify), or at most a second. A lab's nodes wait together, so they must
// not poll: a hundred polling inits would starve the engine starting them.
// Without inotify it falls back to 50 ms naps.
func readyWatch(dir string) func() {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err == nil {
		_, err = unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_CREATE)
	}
	if err != nil {
		return func() { time.Sleep(50 * time.Millisecond) }
	}
	buf := make([]byte, 4096)
	return func() {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 1000); n > 0 {
			unix.Read(fd, buf) // drain; the caller re-reads the file
		}
	}
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
