package main

import (
	"context"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
)

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
				if c.Bool("json") {
					return lookingglass.WriteJSON(c.App.Writer, g)
				}
				return lookingglass.WriteTable(c.App.Writer, g)
			})
		},
	}
}
