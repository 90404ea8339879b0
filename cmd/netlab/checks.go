package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/report"
)

// gradingCommands are the commands that grade a running lab, take it back
// to a stage, and look into a class-wide Internet.
func gradingCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "check", Action: runCheck, Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "run only the checks of stage `S`"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON, for graders"},
			&cli.StringFlag{Name: "junit", Usage: "also write the results as JUnit XML to `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: checks.DefaultWorkers, Usage: "checks at once"},
		}},
		{Name: "matrix", Action: runMatrix, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print every pair as JSON: from, to, reachable, verdict, as_path"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 16, Usage: "source ASes (and routers read) at once"},
			&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "how long one echo request waits for its reply"},
			&cli.DurationFlag{Name: "wait", Usage: "first ping in rounds, reading no router, until every pair answers or `D` passes"},
		}},
		{Name: "lg", Action: runLookingGlass, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the paths and routes as JSON"}}},
		{Name: "reset", Action: runReset, Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "then run the setup of the stages up to `S`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
		}},
	}
}

// errChecksFailed makes the exit code 1 once the results are printed.
var errChecksFailed = errors.New("")

func runCheck(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("netlab check takes one lab file or lab name, got %d arguments; see netlab check --help", c.NArg())
	}
	opts := lab.CheckOptions{Stage: c.String("stage"), Parallel: c.Int("parallel")}
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		if opts.Parallel < 1 {
			return usageError("--parallel must be at least 1")
		}
		r, err := m.Check(c.Context, c.Args().First(), opts)
		if err != nil {
			return err
		}
		if junit := c.String("junit"); junit != "" {
			if err := checks.WriteJUnitFile(junit, r.Lab.Name, r.Results); err != nil {
				return err
			}
		}
		if c.Bool("json") {
			err = checks.WriteJSON(c.App.Writer, r.Lab.Name, opts.Stage, r.Results)
		} else {
			err = checks.WriteTable(c.App.Writer, r.Results)
		}
		if err != nil {
			return err
		}
		if r.Failed() > 0 {
			return &exitError{code: exitFailure, err: errChecksFailed}
		}
		return nil
	})
}

func runMatrix(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("netlab matrix takes one lab file or lab name, got %d arguments", c.NArg())
	}
	if c.Int("parallel") < 1 {
		return usageError("--parallel must be at least 1")
	}
	opts := matrix.Options{Workers: c.Int("parallel"), Limit: c.Duration("timeout"), Wait: c.Duration("wait"),
		Progress: func(ok, all int) { fmt.Fprintf(c.App.ErrWriter, "waiting: %d of %d pairs answer\n", ok, all) }}
	return withLabs(c.Context, "matrix", func(m *lab.Manager) error {
		r, err := m.Matrix(c.Context, c.Args().First(), opts)
		if err != nil {
			return err
		}
		rep := matrix.NewReport(r.Lab.Name, r.Pairs)
		if err := show(c, rep, matrix.WriteReport); err != nil {
			return err
		}
		if !rep.Good {
			return &exitError{code: exitFailure, err: errChecksFailed}
		}
		return nil
	})
}

func runLookingGlass(c *cli.Context) error {
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
}

func runReset(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("netlab reset takes one lab file or lab name, got %d arguments; see netlab reset --help", c.NArg())
	}
	stage := c.String("stage")
	return withLabs(c.Context, "reset", func(m *lab.Manager) error {
		prog := report.NewProgress(c.App.Writer, c.App.ErrWriter)
		l, err := m.Reset(c.Context, c.Args().First(), lab.ResetOptions{Stage: stage, Parallel: c.Int("parallel"), Progress: prog.Event})
		prog.Finish()
		if err != nil || stage == "" {
			return err
		}
		report.Stage(c.App.Writer, l, stage)
		return nil
	})
}
