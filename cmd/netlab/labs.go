package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

func labsCommand() *cli.Command {
	return &cli.Command{
		Name:  "labs",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab labs takes no arguments")
			}
			return runLabs(c.Context, c.Bool("json"), c.App.Writer)
		},
	}
}

func runLabs(ctx context.Context, asJSON bool, stdout io.Writer) error {
	out, err := lab.BundledLabs(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, out)
	}
	return report.Bundled(stdout, out)
}
