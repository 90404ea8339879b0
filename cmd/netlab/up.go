package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/convert"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
	"github.com/netlab/netlab/trust"
)

func upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "bring a lab up, or repair it: containers with --net=none, wired from the host",
		ArgsUsage: "FILE",
		Description: "Plans the lab and carries the plan out in parallel. Every step does only what is\n" +
			"missing: a second up changes nothing, and after a node was restarted or removed, up\n" +
			"rebuilds exactly what it lacks. On an edited file up converges: it first removes what\n" +
			"the file no longer has (nodes, networks, addresses) and makes again the nodes whose\n" +
			"image, command or environment changed; --dry-run prints all that and changes nothing.\n" +
			"Ctrl-C stops; up finishes or down removes the rest.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print what up would create, change and remove; change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "with --dry-run: print the changes as JSON"},
			&cli.BoolFlag{Name: "no-watch", Usage: "start no watcher: a restarted node stays unwired until the next up"},
			&cli.StringFlag{Name: "runtime", Usage: "run the nodes with `RUNTIME`, docker, runc or kubernetes, whatever the file says"},
			&cli.StringFlag{Name: "kubeconfig", Usage: "on the kubernetes runtime, the cluster of `FILE` (default: KUBECONFIG, then ~/.kube/config); the lab's later commands reach the same cluster"},
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
			if r := c.String("runtime"); r != "" && !lab.IsRuntime(r) {
				return usageError("--runtime is docker, runc or kubernetes, not %q", r)
			}
			opts := lab.UpOptions{Parallel: c.Int("parallel"), DryRun: c.Bool("dry-run"), NoWatch: c.Bool("no-watch"),
				Runtime: c.String("runtime"), Stage: c.String("stage"), AllowHost: c.Bool("allow-host")}
			l, err := loadLabWith(file, convert.Options{ConfigureAll: c.Bool("configure-all")}, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return withLabsOn(c.Context, "up", lab.Options{Kubeconfig: c.String("kubeconfig")}, func(m *lab.Manager) error {
				return runUp(c.Context, m, l, opts, c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "print what netlab up FILE would create, change and remove (netlab up --dry-run)",
		ArgsUsage: "FILE",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
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
	prog := newProgress(stdout, stderr)
	opts.Progress = prog.event
	res, err := m.Up(ctx, l, opts)
	prog.finish()
	if err != nil {
		return err
	}
	if opts.DryRun {
		return printChanges(stdout, res, asJSON)
	}
	if res.UpToDate() {
		fmt.Fprintf(stdout, "lab %s is up to date (%d steps checked in %s)\n", l.Name, res.Unchanged, res.Took)
	} else {
		fmt.Fprintf(stdout, "lab %s is up: %d steps done, %d already in place, in %s\n", l.Name, res.Changed, res.Unchanged, res.Took)
	}
	st, err := m.Status(ctx, l.Name)
	if err != nil {
		return err
	}
	printStatus(stdout, st)
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
	if len(res.Host) > 0 {
		fmt.Fprintf(w, "lab %s reaches the host (up needs --allow-host, or netlab trust FILE, unless it is bundled):\n", res.Lab)
		for _, r := range res.Host {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if len(res.Changes) == 0 {
		fmt.Fprintf(w, "lab %s matches its file: up would change nothing\n", res.Lab)
		return nil
	}
	fmt.Fprintf(w, "lab %s: netlab up would\n", res.Lab)
	t := tablewriter.NewWriter(w)
	t.Header("Action", "What", "Name", "Detail")
	for _, c := range res.Changes {
		t.Append(string(c.Action), c.What(), c.Name, c.Detail)
	}
	return t.Render()
}

func trustCommand() *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "allow a lab file what it asks of the host, until the file changes",
		ArgsUsage: "FILE",
		Description: "A lab that reaches past its nodes into this machine (bind mounts outside its folder,\n" +
			"capabilities beyond NET_ADMIN and NET_RAW, host bridges, macvlans and host links,\n" +
			"ports published beyond loopback, sysctls outside net.*) comes up only when a person\n" +
			"allows it: netlab up --allow-host for one run, or netlab trust FILE, which records the\n" +
			"hash of the file (and of the files it reads) in " + trust.DefaultStore + ". Any edit revokes it.\n" +
			"Bundled labs are trusted as they are.",
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			reqs, digest, err := lab.Trust(file)
			if err != nil {
				return err
			}
			if len(reqs) == 0 {
				fmt.Fprintf(c.App.Writer, "%s asks nothing of the host beyond its nodes: netlab up needs no allowance for it\n", file)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "trusted %s (sha256 %s) with what it asks of the host:\n", file, digest[:12])
			for _, r := range reqs {
				fmt.Fprintf(c.App.Writer, "  %s\n", r)
			}
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

// progress shows a lab's events: steps as one updating line on a
// terminal, plain lines otherwise (failures always get a line of their
// own); notes on stdout, warnings on stderr.
type progress struct {
	stdout, stderr io.Writer
	tty            bool
	mu             sync.Mutex
	line           bool // a step line is shown on the terminal
}

func newProgress(stdout, stderr io.Writer) *progress {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{stdout: stdout, stderr: stderr, tty: tty}
}

func (p *progress) event(e lab.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind != lab.EventStep || e.Outcome == apply.Failed {
		p.clear()
	}
	switch {
	case e.Kind == lab.EventNote:
		fmt.Fprintln(p.stdout, e.Message)
	case e.Kind != lab.EventStep:
		fmt.Fprintln(p.stderr, e.Message)
	case e.Outcome == apply.Failed:
		fmt.Fprintf(p.stderr, "[%d/%d] FAILED %s: %v\n", e.N, e.Total, e.StepID, e.Err)
	case p.tty:
		word := map[apply.Outcome]string{apply.Changed: "done", apply.Unchanged: "ok", apply.Skipped: "skipped"}[e.Outcome]
		fmt.Fprintf(p.stderr, "\r\033[K[%d/%d] %s %s", e.N, e.Total, word, steps.Describe(e.Step))
		p.line = true
	case e.Outcome != apply.Skipped:
		word := map[apply.Outcome]string{apply.Changed: "done", apply.Unchanged: "ok"}[e.Outcome]
		fmt.Fprintf(p.stderr, "[%d/%d] %-4s %s (%s)\n", e.N, e.Total, word, e.StepID, e.Took.Round(time.Millisecond))
	}
}

// clear removes the step line from the terminal.
func (p *progress) clear() {
	if p.line {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.line = false
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
