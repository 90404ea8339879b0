package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/netlab/netlab/provider"
)

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
