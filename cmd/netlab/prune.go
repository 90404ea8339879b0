package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

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
