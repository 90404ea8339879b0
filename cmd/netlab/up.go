// A lab's lifecycle: up, diff, trust, down, status, ls.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/convert"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

func upCommand() *cli.Command {
	return &cli.Command{
		Name: "up",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print what up would create, change and remove; change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "with --dry-run: print the changes as JSON"},
			&cli.BoolFlag{Name: "no-watch", Usage: "start no watcher: a restarted node stays unwired until the next up"},
			&cli.StringFlag{Name: "runtime", Usage: "run the nodes with `RUNTIME`, docker or runc, whatever the file says"},
			&cli.BoolFlag{Name: "allow-host", Usage: "allow, for this run, what the lab asks of the host beyond its nodes (host mounts, capabilities, host networks; netlab diff lists it)"},
			&cli.BoolFlag{Name: "configure-all", Usage: "a mini-Internet configuration: configure its NoConfig ASes too (the reference solution)"},
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "then run the setup of the lab's stages up to `S` (netlab reset --stage also removes what was changed by hand)"},
		},
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			if c.Bool("json") && !c.Bool("dry-run") {
				return usageError("netlab up --json goes with --dry-run")
			}
			if r := c.String("runtime"); r != "" && r != lab.RuntimeDocker && r != lab.RuntimeRunc {
				return usageError("--runtime is docker or runc, not %q", r)
			}
			opts := lab.UpOptions{Parallel: c.Int("parallel"), DryRun: c.Bool("dry-run"), NoWatch: c.Bool("no-watch"),
				Runtime: c.String("runtime"), Stage: c.String("stage"), AllowHost: c.Bool("allow-host")}
			l, err := loadLabWith(file, convert.Options{ConfigureAll: c.Bool("configure-all")}, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return withLabs(c.Context, "up", func(m *lab.Manager) error {
				return runUp(c.Context, m, l, opts, c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:  "diff",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			l, err := loadLab(file, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return withLabs(c.Context, "up", func(m *lab.Manager) error {
				return runUp(c.Context, m, l, lab.UpOptions{DryRun: true}, c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

// runUp brings the lab up (or, with DryRun, prints what up would
// change), showing progress on stderr and the lab's status at the end.
func runUp(ctx context.Context, m *lab.Manager, l *spec.Lab, opts lab.UpOptions, asJSON bool, stdout, stderr io.Writer) error {
	prog := report.NewProgress(stdout, stderr)
	opts.Progress = prog.Event
	res, err := m.Up(ctx, l, opts)
	prog.Finish()
	if err != nil {
		return err
	}
	if opts.DryRun {
		return printChanges(stdout, res, asJSON)
	}
	report.Up(stdout, res)
	if err := printLab(ctx, m, l.Name, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shell on a node: netlab exec %s NODE    remove it all: netlab down %s\n", l.Name, l.Name)
	return nil
}

// printChanges prints a dry run's changes, and what the lab asks of the
// host.
func printChanges(w io.Writer, res *lab.UpResult, asJSON bool) error {
	if asJSON {
		return writeJSON(w, struct {
			Lab     string            `json:"lab"`
			Changes []converge.Change `json:"changes"`
			Host    []trust.Request   `json:"host"`
		}{res.Lab, append([]converge.Change{}, res.Changes...), append([]trust.Request{}, res.Host...)})
	}
	return report.Changes(w, res)
}

func trustCommand() *cli.Command {
	return &cli.Command{
		Name: "trust",
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			reqs, digest, err := lab.Trust(file)
			if err != nil {
				return err
			}
			report.Trusted(c.App.Writer, file, reqs, digest)
			return nil
		},
	}
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// show writes v as JSON with --json, else for people with write.
func show[T any](c *cli.Context, v T, write func(io.Writer, T) error) error {
	if c.Bool("json") {
		return writeJSON(c.App.Writer, v)
	}
	return write(c.App.Writer, v)
}

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
			return withLabs(c.Context, "", func(m *lab.Manager) error {
				labs, err := m.List(c.Context)
				if err != nil {
					return err
				}
				return show(c, labs, report.List)
			})
		},
	}
}
