// This host: the bundled labs, doctor, prune, restore.

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/hostcheck"
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
			out, err := lab.BundledLabs(c.Context)
			if err != nil {
				return err
			}
			return show(c, out, report.Bundled)
		},
	}
}

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab doctor takes no arguments")
			}
			return show(c, hostcheck.Doctor(c.Context), report.Doctor)
		},
	}
}

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name: "prune",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would go; remove nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab prune takes no arguments")
			}
			return withLabs(c.Context, "prune", func(m *lab.Manager) error {
				return runPrune(c.Context, m, c.Bool("dry-run"), c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runPrune(ctx context.Context, m *lab.Manager, dryRun, asJSON bool, stdout, stderr io.Writer) error {
	res, err := m.Prune(ctx, lab.PruneOptions{DryRun: dryRun})
	if res == nil {
		return err
	}
	if asJSON {
		if jerr := writeJSON(stdout, res); jerr != nil {
			return jerr
		}
		return err
	}
	if perr := report.Prune(stdout, stderr, res); perr != nil {
		return perr
	}
	return err
}

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
