// Command netlab-init is the first process of every node of a lab: it
// waits until netlab has wired the node, then runs the node's command and
// stays its parent, reaping orphans (see package nodeinit). netlab up finds it beside the netlab binary and
// binds a copy into each node at /.netlab/init. It is a program of its own
// because every node starts it: netlab's own start-up (its dependencies'
// package initialisation) would cost each node start several times the
// CPU (perf stat -r 50 bin/netlab --version against bin/netlab-init).
//
//	netlab-init _init [-dhcp IFACES] [-dhcp-dns] COMMAND [ARG...]
//	netlab-init _dhcpc [-notify-fd FD] [-dns] IFACE...
//	netlab-init _gate COMMAND [ARG...]   (a node's heavy start-up work, see package startgate)
//	netlab-init _signal TERM|KILL        (a node stopped from inside it, see nodeinit.Signal)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/startgate"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netlab-init _init [-dhcp IFACES] [-dhcp-dns] COMMAND [ARG...]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "_init":
		// Run passes the signals on to the node's command.
		os.Exit(nodeinit.Run(os.Args[2:], os.Stderr))
	case "_dhcpc":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := nodeinit.RunDHCPClient(ctx, os.Args[2:], os.Stderr)
		stop()
		os.Exit(code)
	case "_gate":
		os.Exit(startgate.Run(os.Args[2:], os.Stderr))
	case "_signal":
		os.Exit(nodeinit.Signal(os.Args[2:], os.Stderr))
	default:
		fmt.Fprintf(os.Stderr, "netlab-init: unknown mode %q (netlab up runs it as a node's init)\n", os.Args[1])
		os.Exit(2)
	}
}
