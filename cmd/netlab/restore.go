package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "bring back the labs that were up before a reboot",
		ArgsUsage: "[LAB…]",
		Description: "Every lab brought up is recorded in " + lab.RecordDir + " until its down. After a\n" +
			"reboot the run directories, runc's state, the host's bridges and the watchers are gone;\n" +
			"restore brings each recorded lab (or the LABs named) up again from its file, on the\n" +
			"runtime it was brought up on, and starts its watcher. Run it at boot: docs/netlab-restore.service.\n" +
			"A runc node starts again from its image: its own changes were in the run directory.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			return withLabs(c.Context, "restore", func(m *lab.Manager) error {
				return runRestore(c.Context, m, c.Args().Slice(), c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runRestore(ctx context.Context, m *lab.Manager, labs []string, asJSON bool, stdout, stderr io.Writer) error {
	var prog *progress
	var events lab.Progress
	if !asJSON {
		prog = newProgress(stdout, stderr)
		events = prog.event
	}
	out, err := m.Restore(ctx, labs, events)
	if prog != nil {
		prog.finish()
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
	for _, r := range out {
		switch {
		case r.Error != "":
			fmt.Fprintf(stderr, "lab %s: not restored: %s\n", r.Lab, r.Error)
		case r.Result != nil:
			fmt.Fprintf(stdout, "lab %s restored from %s: %d steps changed, %d unchanged in %s\n", r.Lab, r.File, r.Result.Changed, r.Result.Unchanged, r.Result.Took)
		}
	}
	if len(out) == 0 && err == nil {
		fmt.Fprintf(stdout, "no lab is recorded as up (%s)\n", lab.RecordDir)
	}
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("")}
	}
	return nil
}
