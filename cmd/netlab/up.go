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

// lifecycleCommands are the commands that bring labs up and down, and
// say what runs.
func lifecycleCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "up", Action: runUp, Flags: []cli.Flag{
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print what up would create, change and remove; change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "with --dry-run: print the changes as JSON"},
			&cli.BoolFlag{Name: "no-watch", Usage: "start no watcher: a restarted node stays unwired until the next up"},
			&cli.StringFlag{Name: "runtime", Usage: "run the nodes with `RUNTIME`, docker, runc or kubernetes, whatever the file says"},
			&cli.StringFlag{Name: "kubeconfig", Usage: "on the kubernetes runtime, the cluster of `FILE` (default: KUBECONFIG, then ~/.kube/config); the lab's later commands reach the same cluster"},
			&cli.BoolFlag{Name: "allow-host", Usage: "allow, for this run, what the lab asks of the host beyond its nodes (host mounts, capabilities, host networks; netlab diff lists it)"},
			&cli.BoolFlag{Name: "configure-all", Usage: "a mini-Internet configuration: configure its NoConfig ASes too (the reference solution)"},
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "then run the setup of the lab's stages up to `S` (netlab reset --stage also removes what was changed by hand)"},
		}},
		{Name: "diff", Action: runDiff, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
		{Name: "trust", Action: runTrust},
		{Name: "down", Action: runDown, BashComplete: completeLabNode(false), Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "take the lab's name from `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 32, Usage: "containers removed at once"},
			&cli.BoolFlag{Name: "keep-cache", Usage: "keep the images a runc lab's nodes were unpacked from in " + rootfs.DefaultDir + ", and this netlab's copy in " + lab.InitDir + " (the next up starts at once)"},
		}},
		{Name: "status", Action: runStatus, BashComplete: completeLabNode(false), Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
		{Name: "ls", Action: runLs, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}}},
	}
}

func runUp(c *cli.Context) error {
	file, err := oneFile(c)
	if err != nil {
		return err
	}
	if c.Bool("json") && !c.Bool("dry-run") {
		return usageError("netlab up --json goes with --dry-run")
	}
	if r := c.String("runtime"); r != "" && !lab.IsRuntime(r) {
		return usageError("--runtime is docker, runc or kubernetes, not %q", r)
	}
	opts := lab.UpOptions{Parallel: c.Int("parallel"), DryRun: c.Bool("dry-run"), NoWatch: c.Bool("no-watch"),
		Runtime: c.String("runtime"), Stage: c.String("stage"), AllowHost: c.Bool("allow-host")}
	l, err := loadLabWith(file, convert.Options{ConfigureAll: c.Bool("configure-all")}, c.App.ErrWriter)
	if err != nil {
		return err
	}
	kube := lab.Options{Kubeconfig: c.String("kubeconfig")}
	return withLabsOn(c.Context, "up", kube, func(m *lab.Manager) error { return up(c, m, l, opts) })
}

func runDiff(c *cli.Context) error {
	file, err := oneFile(c)
	if err != nil {
		return err
	}
	l, err := loadLab(file, c.App.ErrWriter)
	if err != nil {
		return err
	}
	return withLabs(c.Context, "up", func(m *lab.Manager) error { return up(c, m, l, lab.UpOptions{DryRun: true}) })
}

// up brings the lab up (or, with DryRun, prints what up would change),
// showing progress on stderr and the lab's status at the end.
func up(c *cli.Context, m *lab.Manager, l *spec.Lab, opts lab.UpOptions) error {
	stdout := c.App.Writer
	prog := report.NewProgress(stdout, c.App.ErrWriter)
	opts.Progress = prog.Event
	res, err := m.Up(c.Context, l, opts)
	prog.Finish()
	if err != nil {
		return err
	}
	if opts.DryRun && c.Bool("json") {
		return writeJSON(stdout, dryRun{res.Lab, append([]converge.Change{}, res.Changes...), append([]trust.Request{}, res.Host...)})
	}
	if opts.DryRun {
		return report.Changes(stdout, res)
	}
	report.Up(stdout, res)
	if err := printLab(c.Context, m, l.Name, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shell on a node: netlab exec %s NODE    remove it all: netlab down %s\n", l.Name, l.Name)
	return nil
}

// dryRun is what a dry run found, as --json writes it: what up would
// change, and what the lab asks of the host.
type dryRun struct {
	Lab     string            `json:"lab"`
	Changes []converge.Change `json:"changes"`
	Host    []trust.Request   `json:"host"`
}

func runTrust(c *cli.Context) error {
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

func runDown(c *cli.Context) error {
	name, err := labName(c)
	if err != nil {
		return err
	}
	opts := lab.DownOptions{Parallel: c.Int("parallel"), KeepCache: c.Bool("keep-cache")}
	opts.Progress = report.NewProgress(c.App.Writer, c.App.ErrWriter).Event
	return withLabs(c.Context, "down", func(m *lab.Manager) error {
		r, err := m.Down(c.Context, name, opts)
		if err != nil {
			return err
		}
		report.Down(c.App.Writer, name, r)
		return nil
	})
}

func runStatus(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("netlab status takes at most one lab name")
	}
	return withLabs(c.Context, "status", func(m *lab.Manager) error {
		states, err := m.Statuses(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if c.Bool("json") {
			all := map[string][]lab.NodeState{}
			for _, st := range states {
				all[st.Lab] = st.Nodes
			}
			return writeJSON(c.App.Writer, all)
		}
		return report.Statuses(c.App.Writer, states)
	})
}

func runLs(c *cli.Context) error {
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		labs, err := m.List(c.Context)
		if err != nil {
			return err
		}
		return show(c, labs, report.List)
	})
}

// printLab prints a lab's status, after a command that changed it.
func printLab(ctx context.Context, m *lab.Manager, name string, stdout io.Writer) error {
	st, err := m.Status(ctx, name)
	if err != nil {
		return err
	}
	return report.Status(stdout, st)
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
	return withLabsOn(ctx, verb, lab.Options{}, f)
}

// withLabsOn is withLabs with the manager's options.
func withLabsOn(ctx context.Context, verb string, opts lab.Options, f func(m *lab.Manager) error) error {
	if err := lab.NeedRoot(verb); err != nil {
		return err
	}
	m, err := lab.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	return f(m)
}
