package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/hostcheck"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

// hostCommands are the commands about this host: the labs it carries,
// what it offers labs, what labs leave on its disk, and its labs after a
// reboot.
func hostCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "labs", Action: runLabs, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
		{Name: "doctor", Action: runDoctor, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
		{Name: "prune", Action: runPrune, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would go; remove nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print as JSON"},
		}},
		{Name: "restore", Action: runRestore, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
	}
}

func runLabs(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("netlab labs takes no arguments")
	}
	out, err := lab.BundledLabs(c.Context)
	if err != nil {
		return err
	}
	return show(c, out, report.Bundled)
}

func runDoctor(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("netlab doctor takes no arguments")
	}
	return show(c, hostcheck.Doctor(c.Context), report.Doctor)
}

func runPrune(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("netlab prune takes no arguments")
	}
	return withLabs(c.Context, "prune", func(m *lab.Manager) error {
		res, err := m.Prune(c.Context, lab.PruneOptions{DryRun: c.Bool("dry-run")})
		if res == nil {
			return err
		}
		if c.Bool("json") {
			if jerr := writeJSON(c.App.Writer, res); jerr != nil {
				return jerr
			}
			return err
		}
		if perr := report.Prune(c.App.Writer, c.App.ErrWriter, res); perr != nil {
			return perr
		}
		return err
	})
}

func runRestore(c *cli.Context) error {
	return withLabs(c.Context, "restore", func(m *lab.Manager) error {
		var prog *report.Progress
		var events lab.Progress
		if !c.Bool("json") {
			prog = report.NewProgress(c.App.Writer, c.App.ErrWriter)
			events = prog.Event
		}
		out, err := m.Restore(c.Context, c.Args().Slice(), events)
		if prog != nil {
			prog.Finish()
		}
		if c.Bool("json") {
			if jerr := writeJSON(c.App.Writer, out); jerr != nil {
				return jerr
			}
			return err
		}
		report.Restore(c.App.Writer, c.App.ErrWriter, out)
		if len(out) == 0 && err == nil {
			fmt.Fprintf(c.App.Writer, "no lab is recorded as up (%s)\n", lab.RecordDir)
		}
		if err != nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("")}
		}
		return nil
	})
}
