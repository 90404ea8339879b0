package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			return withLabs(c.Context, "restore", func(m *lab.Manager) error {
				return runRestore(c.Context, m, c.Args().Slice(), c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runRestore(ctx context.Context, m *lab.Manager, labs []string, asJSON bool, stdout, stderr io.Writer) error {
	var prog *report.Progress
	var events lab.Progress
	if !asJSON {
		prog = report.NewProgress(stdout, stderr)
		events = prog.Event
	}
	out, err := m.Restore(ctx, labs, events)
	if prog != nil {
		prog.Finish()
	}
	if asJSON {
		if out == nil {
			out = []lab.Restored{}
		}
		if jerr := writeJSON(stdout, out); jerr != nil {
			return jerr
		}
		return err
	}
	report.Restore(stdout, stderr, out)
	if len(out) == 0 && err == nil {
		fmt.Fprintf(stdout, "no lab is recorded as up (%s)\n", lab.RecordDir)
	}
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("")}
	}
	return nil
}
