package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
	"github.com/netlab/netlab/rootfs"
)

// withLabs runs f with the lab manager, after checking that the command
// (verb) runs as root if it must.
func withLabs(ctx context.Context, verb string, f func(m *lab.Manager) error) error {
	if err := lab.NeedRoot(verb); err != nil {
		return err
	}
	m, err := lab.Open(ctx, lab.Options{})
	if err != nil {
		return err
	}
	defer m.Close()
	return f(m)
}

// labName resolves "down NAME" / "down -f FILE".
func labName(c *cli.Context) (string, error) {
	file := c.String("file")
	switch {
	case file != "" && c.NArg() == 0:
		l, err := loadLab(file, c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		return l.Name, nil
	case file == "" && c.NArg() == 1:
		return c.Args().First(), nil
	}
	return "", usageError("netlab %s takes a lab name or -f FILE; see netlab %s --help", c.Command.Name, c.Command.Name)
}

func downCommand() *cli.Command {
	return &cli.Command{
		Name: "down",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "take the lab's name from `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 32, Usage: "containers removed at once"},
			&cli.BoolFlag{Name: "keep-cache", Usage: "keep the images a runc lab's nodes were unpacked from in " + rootfs.DefaultDir + ", and this netlab's copy in " + lab.InitDir + " (the next up starts at once)"},
		},
		Action: func(c *cli.Context) error {
			name, err := labName(c)
			if err != nil {
				return err
			}
			opts := lab.DownOptions{Parallel: c.Int("parallel"), KeepCache: c.Bool("keep-cache")}
			return withLabs(c.Context, "down", func(m *lab.Manager) error { return runDown(c.Context, m, name, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

func runDown(ctx context.Context, m *lab.Manager, name string, opts lab.DownOptions, stdout, stderr io.Writer) error {
	opts.Progress = report.NewProgress(stdout, stderr).Event
	r, err := m.Down(ctx, name, opts)
	if err != nil {
		return err
	}
	report.Down(stdout, name, r)
	return nil
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("netlab status takes at most one lab name")
			}
			return withLabs(c.Context, "status", func(m *lab.Manager) error {
				return runStatus(c.Context, m, c.Args().First(), c.Bool("json"), c.App.Writer)
			})
		},
	}
}

func runStatus(ctx context.Context, m *lab.Manager, name string, asJSON bool, stdout io.Writer) error {
	states, err := m.Statuses(ctx, name)
	if err != nil {
		return err
	}
	if asJSON {
		all := map[string][]lab.NodeState{}
		for _, st := range states {
			all[st.Lab] = st.Nodes
		}
		return writeJSON(stdout, all)
	}
	if len(states) == 0 {
		fmt.Fprintln(stdout, "no labs on this host")
	}
	for _, st := range states {
		if err := report.Status(stdout, st); err != nil {
			return err
		}
	}
	return nil
}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			return withLabs(c.Context, "", func(m *lab.Manager) error { return runLs(c.Context, m, c.Bool("json"), c.App.Writer) })
		},
	}
}

func runLs(ctx context.Context, m *lab.Manager, asJSON bool, stdout io.Writer) error {
	labs, err := m.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, labs)
	}
	return report.List(stdout, labs)
}
