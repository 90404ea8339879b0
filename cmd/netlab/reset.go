package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

type resetOptions struct {
	target   string // a lab file, a bundled lab, or the name of a running lab
	stage    string
	parallel int
}

func resetCommand() *cli.Command {
	return &cli.Command{
		Name: "reset",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "then run the setup of the stages up to `S`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab reset takes one lab file or lab name, got %d arguments; see netlab reset --help", c.NArg())
			}
			opts := resetOptions{target: c.Args().First(), stage: c.String("stage"), parallel: c.Int("parallel")}
			return withLabs(c.Context, "reset", func(m *lab.Manager) error { return runReset(c.Context, m, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

func runReset(ctx context.Context, m *lab.Manager, opts resetOptions, stdout, stderr io.Writer) error {
	prog := report.NewProgress(stdout, stderr)
	l, err := m.Reset(ctx, opts.target, lab.ResetOptions{Stage: opts.stage, Parallel: opts.parallel, Progress: prog.Event})
	prog.Finish()
	if err != nil || opts.stage == "" {
		return err
	}
	report.Stage(stdout, l, opts.stage)
	return nil
}
