// Grading a running lab: check, reset (to a stage), matrix, lg.

package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/report"
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

func matrixCommand() *cli.Command {
	return &cli.Command{
		Name: "matrix",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print every pair as JSON: from, to, reachable, verdict, as_path"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 16, Usage: "pairs measured at once"},
			&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "how long one echo request waits for its reply"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab matrix takes one lab file or lab name, got %d arguments", c.NArg())
			}
			if c.Int("parallel") < 1 {
				return usageError("--parallel must be at least 1")
			}
			opts := matrix.Options{Workers: c.Int("parallel"), Limit: c.Duration("timeout")}
			return withLabs(c.Context, "matrix", func(m *lab.Manager) error {
				return runMatrix(c.Context, m, c.Args().First(), opts, c.Bool("json"), c.App.Writer)
			})
		},
	}
}

func runMatrix(ctx context.Context, m *lab.Manager, target string, opts matrix.Options, asJSON bool, stdout io.Writer) error {
	r, err := m.Matrix(ctx, target, opts)
	if err != nil {
		return err
	}
	if asJSON {
		err = matrix.WriteJSON(stdout, r.Lab.Name, r.Pairs)
	} else {
		err = matrix.WriteTable(stdout, r.Pairs)
	}
	if err != nil {
		return err
	}
	if good, _, _ := matrix.Count(r.Pairs); good < len(r.Pairs) {
		return &exitError{code: exitFailure, err: errChecksFailed}
	}
	return nil
}

func lgCommand() *cli.Command {
	return &cli.Command{
		Name:  "lg",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the paths and routes as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 || c.NArg() > 3 {
				return usageError("netlab lg takes a lab, a router and maybe a prefix, got %d arguments", c.NArg())
			}
			target, router, prefix := c.Args().Get(0), c.Args().Get(1), c.Args().Get(2)
			return withLabs(c.Context, "lg", func(m *lab.Manager) error {
				g, err := m.LookingGlass(c.Context, target, router, prefix)
				if err != nil {
					return err
				}
				return show(c, g, lookingglass.WriteTable)
			})
		},
	}
}
