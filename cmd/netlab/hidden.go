package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/dhcp"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

// runInit is a node's first process (netlab bind-mounted as its init): it
// waits until the host has wired the node, that is until the ready file
// names this run of the container (provider.Instance: its network
// namespace and start time), then execs the node's own command. After a
// restart the run is new, so it waits again.
// With --dhcp, before the command it starts the node's DHCP client and
// waits (at most dhcpWait) until every interface named holds a lease.
func runInit(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dhcpIfaces := fs.String("dhcp", "", "interfaces whose IPv4 address comes by DHCP, comma-separated")
	dhcpDNS := fs.Bool("dhcp-dns", false, "write the name servers of the lease to /etc/resolv.conf")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprintln(stderr, "netlab init: no command to run")
		return exitUsage
	}
	self, err := provider.Instance("self")
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
	if *dhcpIfaces != "" {
		startDHCPClient(strings.Split(*dhcpIfaces, ","), *dhcpDNS, stderr)
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

// dhcpWait is how long a node's command waits for its DHCP leases. Then
// it starts anyway (the client keeps asking), as a booting machine does:
// the server may be a program in another node that the lab is about.
const dhcpWait = 60 * time.Second

// startDHCPClient starts the node's DHCP client, a process of its own that
// keeps renewing the leases while the node's command runs (the init
// becomes that command, whose child the client then is), and waits until
// it says that every interface holds a lease.
func startDHCPClient(ifaces []string, dns bool, stderr io.Writer) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	defer r.Close()
	args := []string{"_dhcpc", "--notify-fd", "3"}
	if dns {
		args = append(args, "--dns")
	}
	cmd := exec.Command(self, append(args, ifaces...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	// A session of its own: a terminal's Ctrl-C to the command spares it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	r.SetReadDeadline(time.Now().Add(dhcpWait))
	if _, err := r.Read(make([]byte, 1)); err != nil {
		if os.IsTimeout(err) {
			fmt.Fprintf(stderr, "netlab init: no DHCP lease on %s after %s; starting the command anyway, the client keeps asking\n", strings.Join(ifaces, ", "), dhcpWait)
		} else {
			fmt.Fprintln(stderr, "netlab init: the DHCP client stopped; starting the command without its leases")
		}
	}
}

// runDHCPClient is a node's DHCP client (see startDHCPClient).
func runDHCPClient(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_dhcpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	notifyFD := fs.Int("notify-fd", 0, "file descriptor to write a line to once every interface holds a lease")
	dns := fs.Bool("dns", false, "write the name servers of the lease to /etc/resolv.conf")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return exitUsage
	}
	host, _ := os.Hostname()
	logger := log.New(stderr, "netlab dhcp: ", 0)
	c := &dhcp.Client{Ifaces: fs.Args(), DNS: *dns, Hostname: host, Logf: logger.Printf}
	err := c.Run(ctx, func() {
		if *notifyFD > 0 {
			f := os.NewFile(uintptr(*notifyFD), "notify")
			f.Write([]byte("bound\n"))
			f.Close()
		}
	})
	if err != nil && ctx.Err() == nil {
		logger.Print(err)
		return exitFailure
	}
	return exitOK
}

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

// runWatch is a lab's watcher: it rewires nodes that start again.
func runWatch(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lab := fs.String("lab", "", "the lab")
	file := fs.String("file", "", "its lab file")
	pidFile := fs.String("pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "netlab watch %s: %v\n", *lab, err)
		return exitFailure
	}
	if err := provider.Watch(ctx, *lab, *file, self, *pidFile); err != nil {
		fmt.Fprintf(stderr, "netlab watch %s: %v\n", *lab, err)
		return exitFailure
	}
	return exitOK
}
