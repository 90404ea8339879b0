package main

import (
	"context"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/lab"
)

func captureCommand() *cli.Command {
	return &cli.Command{
		Name: "capture",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write pcap to `FILE` (- for standard output)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` packets"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (10s, 1m)"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageError("netlab capture takes a lab and NODE:IF or a network: netlab capture LAB NODE:IF [FILTER]")
			}
			filter := args[2:]
			if len(filter) > 0 && filter[0] == "--" {
				filter = filter[1:]
			}
			if c.Int("count") < 0 || c.Duration("duration") < 0 {
				return usageError("--count and --duration cannot be negative")
			}
			opts := capture.Options{Lab: args[0], Target: args[1], File: c.String("write"),
				Count: c.Int("count"), Duration: c.Duration("duration"), Filter: strings.Join(filter, " ")}
			return withLabs(c.Context, "capture", func(m *lab.Manager) error { return runCapture(c.Context, m, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

func runCapture(ctx context.Context, m *lab.Manager, opts capture.Options, stdout, stderr io.Writer) error {
	return m.Capture(ctx, opts, stdout, stderr)
}
