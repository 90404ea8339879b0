package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/netlab/netlab/lab"
)

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
