package main

import (
	"context"
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/lab"
)

type checkOptions struct {
	target   string // a lab file, or the name of a running lab
	stage    string
	json     bool
	junit    string
	parallel int
}

func checkCommand() *cli.Command {
	return &cli.Command{
		Name: "check",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "run only the checks of stage `S`"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON, for graders"},
			&cli.StringFlag{Name: "junit", Usage: "also write the results as JUnit XML to `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: checks.DefaultWorkers, Usage: "checks at once"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab check takes one lab file or lab name, got %d arguments; see netlab check --help", c.NArg())
			}
			opts := checkOptions{target: c.Args().First(), stage: c.String("stage"), json: c.Bool("json"),
				junit: c.String("junit"), parallel: c.Int("parallel")}
			return withLabs(c.Context, "", func(m *lab.Manager) error { return runCheck(c.Context, m, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

// errChecksFailed makes the exit code 1 once the results are printed.
var errChecksFailed = errors.New("")

func runCheck(ctx context.Context, m *lab.Manager, opts checkOptions, stdout, stderr io.Writer) error {
	if opts.parallel < 1 {
		return usageError("--parallel must be at least 1")
	}
	r, err := m.Check(ctx, opts.target, lab.CheckOptions{Stage: opts.stage, Parallel: opts.parallel})
	if err != nil {
		return err
	}
	if opts.junit != "" {
		if err := checks.WriteJUnitFile(opts.junit, r.Lab.Name, r.Results); err != nil {
			return err
		}
	}
	if opts.json {
		err = checks.WriteJSON(stdout, r.Lab.Name, opts.stage, r.Results)
	} else {
		err = checks.WriteTable(stdout, r.Results)
	}
	if err != nil {
		return err
	}
	if r.Failed() > 0 {
		return &exitError{code: exitFailure, err: errChecksFailed}
	}
	return nil
}
