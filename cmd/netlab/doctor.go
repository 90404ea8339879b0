package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/hostcheck"
	"github.com/netlab/netlab/report"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab doctor takes no arguments")
			}
			return runDoctor(c.Context, c.Bool("json"), c.App.Writer)
		},
	}
}

func runDoctor(ctx context.Context, asJSON bool, stdout io.Writer) error {
	r := hostcheck.Doctor(ctx)
	if asJSON {
		return writeJSON(stdout, r)
	}
	return report.Doctor(stdout, r)
}
