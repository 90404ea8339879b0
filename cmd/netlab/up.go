package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/faults"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/wire"
)

// openAsRoot checks that netlab runs as root and reaches the Docker engine;
// otherwise it says in one line what is missing and what to do.
func openAsRoot(ctx context.Context, verb string) (*engine.Host, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("netlab %s needs root: it changes the host's interfaces, namespaces and firewall; run it with sudo", verb)
	}
	return provider.Open(ctx)
}

// staticSelf returns the path of this binary, which the lab's helpers run
// in nodes' namespaces and, without a netlab-init beside it, every node as
// its init: it must not need a dynamic loader inside the node's image.
func staticSelf() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the netlab binary: %w", err)
	}
	if err := engine.Static(self); err != nil {
		return "", err
	}
	return self, nil
}

type upOptions struct {
	file     string
	parallel int
	lab      *spec.Lab // loaded already, and changed at run time (netlab impair); nil: load file
	dryRun   bool      // print what up would change, change nothing
	noWatch  bool      // start no watcher (the watcher's own up)
	runtime  string    // --runtime: overrides the file's runtime
	asJSON   bool      // the dry run's changes as JSON
}

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
			&cli.StringFlag{Name: "runtime", Usage: "run the nodes with `RUNTIME`, docker or runc, whatever the file says"},
		},
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			if c.Bool("json") && !c.Bool("dry-run") {
				return usageError("netlab up --json goes with --dry-run")
			}
			if r := c.String("runtime"); r != "" && r != engine.RuntimeDocker && r != engine.RuntimeRunc {
				return usageError("--runtime is docker or runc, not %q", r)
			}
			return runUp(c.Context, upOptions{file: file, parallel: c.Int("parallel"), dryRun: c.Bool("dry-run"), asJSON: c.Bool("json"),
				noWatch: c.Bool("no-watch"), runtime: c.String("runtime")}, c.App.Writer, c.App.ErrWriter)
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
			return runUp(c.Context, upOptions{file: file, dryRun: true, asJSON: c.Bool("json")}, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// converged checks that the lab can have the host and compares it with
// what runs of it: the changes up makes.
func converged(ctx context.Context, d *engine.Host, rt engine.Runtime, p *planner.Plan) ([]converge.Change, error) {
	existing, err := d.Existing(ctx)
	if err != nil {
		return nil, err
	}
	if err := converge.Collisions(p, existing); err != nil {
		return nil, err
	}
	observed, err := provider.Observe(ctx, rt, p.Lab)
	if err != nil {
		return nil, fmt.Errorf("read the running lab %s: %w", p.Lab, err)
	}
	return converge.Diff(p, observed), nil
}

// printChanges prints a dry run's changes.
func printChanges(w io.Writer, lab string, changes []converge.Change, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Lab     string            `json:"lab"`
			Changes []converge.Change `json:"changes"`
		}{lab, append([]converge.Change{}, changes...)})
	}
	if len(changes) == 0 {
		fmt.Fprintf(w, "lab %s matches its file: up would change nothing\n", lab)
		return nil
	}
	fmt.Fprintf(w, "lab %s: netlab up would\n", lab)
	t := tablewriter.NewWriter(w)
	t.Header("Action", "What", "Name", "Detail")
	for _, c := range changes {
		t.Append(string(c.Action), c.What(), c.Name, c.Detail)
	}
	return t.Render()
}

func runUp(ctx context.Context, opts upOptions, stdout, stderr io.Writer) error {
	lab, err := opts.lab, error(nil)
	if lab == nil {
		lab, err = loadLab(opts.file)
	}
	if err != nil {
		return err
	}
	p, err := buildPlan(lab)
	if err != nil {
		return err
	}
	d, err := openAsRoot(ctx, "up")
	if err != nil {
		return err
	}
	defer d.Close()
	self, err := staticSelf()
	if err != nil {
		return err
	}
	var bins engine.Installed
	if !opts.dryRun {
		// Nodes run a copy named by its content, not this file, which may
		// move or go (a removed checkout, a go install elsewhere).
		installed, release, err := engine.InstallInit(self)
		if err != nil {
			return err
		}
		defer release()
		bins = installed
		if bins.NoInit {
			fmt.Fprintf(stderr, "no %s beside %s: nodes run netlab itself as their init, whose start-up costs each node several times the CPU (make build makes both)\n",
				engine.InitName, self)
		}
	}
	if !opts.dryRun {
		// One command on a lab at a time: a user's up, the watcher's, down.
		unlock, err := engine.LockLab(lab.Name, "up", func(holder string) {
			fmt.Fprintf(stderr, "lab %s: %s is working on it; waiting…\n", lab.Name, holder)
		})
		if err != nil {
			return err
		}
		defer unlock()
	}
	runtime, err := labRuntime(ctx, d, lab, opts.runtime)
	if err != nil {
		return err
	}
	rt, err := d.Runtime(runtime)
	if err != nil {
		return err
	}
	changes, err := converged(ctx, d, rt, p)
	if err != nil {
		return err
	}
	if opts.dryRun {
		return printChanges(stdout, lab.Name, changes, opts.asJSON)
	}
	removed, err := provider.Remove(ctx, rt, lab.Name, changes)
	for _, c := range removed {
		verb := "removed"
		if c.Action == converge.Recreate {
			verb = "removed to make again (" + c.Detail + ")"
		}
		fmt.Fprintf(stdout, "%s %s %s\n", verb, c.What(), c.Name)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w; fix the cause and run netlab up again", lab.Name, err)
	}
	restored, err := engine.RestoreInits(ctx, rt, lab.Name)
	for _, node := range restored {
		fmt.Fprintf(stdout, "put back the init binary of node %s (it was removed from %s)\n", node, engine.InitDir)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w", lab.Name, err)
	}
	ex, err := provider.NewExecutor(ctx, rt, p, bins)
	if err != nil {
		return err
	}
	defer ex.Close()
	if from, to, err := wire.EnsureInotify(len(lab.Nodes)); err != nil {
		fmt.Fprintf(stderr, "lab %s: %v; nodes above the limit wait by polling\n", lab.Name, err)
	} else if to != 0 {
		fmt.Fprintf(stderr, "raised fs.inotify.max_user_instances from %d to %d: each node waiting to be wired holds one\n", from, to)
	}
	start := time.Now()
	prog := newProgress(stderr, len(p.Steps))
	res, err := apply.Run(ctx, p, ex, opts.parallel, prog.event)
	prog.finish()
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(stderr, "lab %s: %d steps failed, %d skipped; fix the cause and run netlab up again, or netlab down %s\n",
			lab.Name, res.Failed, res.Skipped, lab.Name)
		return err
	}
	// The watcher starts while up waits to see whether a node dies at
	// start. It follows the lab only once up lets go of the lab's lock:
	// it would start again a node that up stops.
	var watching sync.WaitGroup
	var watchErr error
	if !opts.noWatch {
		watching.Add(1)
		go func() {
			defer watching.Done()
			_, watchErr = provider.EnsureWatcher(lab.Name, p.FileLabel(), bins.Netlab)
		}()
	}
	defer watching.Wait() // on an early return too: the watcher may be starting
	pruned, err := provider.PruneTables(ctx, rt, p, ex.Started)
	for _, w := range pruned {
		fmt.Fprintf(stdout, "removed %s (no longer in the file)\n", w)
	}
	if err != nil {
		return fmt.Errorf("lab %s: %w", lab.Name, err)
	}
	if err := diedAtStart(ctx, rt, lab.Name, start, prog.released, stderr); err != nil {
		return err
	}
	if res.Changed == 0 && len(pruned) == 0 {
		fmt.Fprintf(stdout, "lab %s is up to date (%d steps checked in %s)\n", lab.Name, res.Unchanged, took)
	} else {
		fmt.Fprintf(stdout, "lab %s is up: %d steps done, %d already in place, in %s\n", lab.Name, res.Changed, res.Unchanged, took)
	}
	if watching.Wait(); watchErr != nil {
		fmt.Fprintf(stderr, "lab %s: %v: restarted nodes stay unwired until netlab up\n", lab.Name, watchErr)
	}
	states, err := provider.Status(ctx, rt, lab.Name)
	if err != nil {
		return err
	}
	printStatus(stdout, lab.Name, states)
	fmt.Fprintf(stdout, "shell on a node: netlab exec %s NODE    remove it all: netlab down %s\n", lab.Name, lab.Name)
	return nil
}

// labRuntime is the runtime that runs the lab's nodes: --runtime, else the
// file's runtime key, else the runtime that runs the lab already (so that
// netlab start and the commands that take the file again keep a lab
// brought up with --runtime where it is), else Docker. A lab moves to
// another runtime only through down.
func labRuntime(ctx context.Context, h *engine.Host, lab *spec.Lab, flag string) (string, error) {
	want := flag
	if want == "" {
		want = lab.Runtime
	}
	list, err := h.List(ctx, lab.Name)
	if err != nil && want == engine.RuntimeRunc && errors.Is(err, engine.ErrNoEngine) {
		list, err = nil, nil // a runc lab needs no engine
	}
	if err != nil {
		return "", err
	}
	for _, c := range list {
		if want == "" {
			want = c.Runtime
		}
		if c.Runtime != want {
			return "", fmt.Errorf("lab %s runs on the %s runtime (node %s): netlab down %s first to bring it up on %s", lab.Name, c.Runtime, c.Node, lab.Name, want)
		}
	}
	if want == "" {
		want = engine.RuntimeDocker
	}
	return want, nil
}

// progress shows a lab coming up: one updating line on a terminal, plain
// lines otherwise; failures always get a line of their own.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
	mu    sync.Mutex
	// released are the nodes whose command this up started (their ready
	// step did something).
	released []string
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, total: total}
}

func (p *progress) event(e apply.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if e.Outcome == apply.Changed && e.Step.Kind == planner.KindReady {
		p.released = append(p.released, e.Step.Node)
	}
	word := map[apply.Outcome]string{apply.Changed: "done", apply.Unchanged: "ok", apply.Failed: "FAILED", apply.Skipped: "skipped"}[e.Outcome]
	switch {
	case e.Outcome == apply.Failed:
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintf(p.w, "[%d/%d] FAILED %s: %v\n", p.n, p.total, e.Step.ID, e.Err)
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K[%d/%d] %s %s", p.n, p.total, word, e.Step.Describe())
	case e.Outcome != apply.Skipped:
		fmt.Fprintf(p.w, "[%d/%d] %-4s %s (%s)\n", p.n, p.total, word, e.Step.ID, e.Took.Round(time.Millisecond))
	}
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// labName resolves "down NAME" / "down -f FILE".
func labName(c *cli.Context) (string, error) {
	file := c.String("file")
	switch {
	case file != "" && c.NArg() == 0:
		lab, err := loadLab(file)
		if err != nil {
			return "", err
		}
		return lab.Name, nil
	case file == "" && c.NArg() == 1:
		return c.Args().First(), nil
	}
	return "", usageError("netlab %s takes a lab name or -f FILE; see netlab %s --help", c.Command.Name, c.Command.Name)
}

func downCommand() *cli.Command {
	return &cli.Command{
		Name:      "down",
		Usage:     "remove a lab and everything it made, with or without its file",
		ArgsUsage: "NAME | -f FILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "take the lab's name from `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 32, Usage: "containers removed at once"},
			&cli.BoolFlag{Name: "keep-cache", Usage: "keep the images a runc lab's nodes were unpacked from in " + rootfs.DefaultDir + ", and this netlab's copy in " + engine.InitDir + " (the next up starts at once)"},
		},
		Action: func(c *cli.Context) error {
			name, err := labName(c)
			if err != nil {
				return err
			}
			return runDown(c.Context, name, c.Int("parallel"), c.Bool("keep-cache"), c.App.Writer)
		},
	}
}

func runDown(ctx context.Context, lab string, parallel int, keepCache bool, stdout io.Writer) error {
	d, err := openAsRoot(ctx, "down")
	if err != nil {
		return err
	}
	defer d.Close()
	unlock, err := engine.LockLab(lab, "down", func(holder string) {
		fmt.Fprintf(os.Stderr, "lab %s: %s is working on it; waiting…\n", lab, holder)
	})
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	r, err := provider.Down(context.WithoutCancel(ctx), d, lab, parallel, keepCache)
	if err != nil {
		return fmt.Errorf("down %s: %w", lab, err)
	}
	keep := "" // --keep-cache keeps this netlab's own build too, for the next up
	if keepCache {
		if self, err := staticSelf(); err == nil {
			keep, _ = engine.BuildDir(self)
		}
	}
	if _, err := engine.PruneInits(ctx, d, keep); err != nil {
		fmt.Fprintf(os.Stderr, "lab %s removed; cleaning %s: %v\n", lab, engine.InitDir, err)
	}
	if r.Containers+r.Interfaces+r.FirewallRules == 0 {
		fmt.Fprintf(stdout, "lab %s: nothing to remove\n", lab)
		return nil
	}
	roots := ""
	if r.ImageRoots > 0 {
		roots = ", " + planner.Plural(r.ImageRoots, "unpacked image") + " (down --keep-cache keeps them)"
	}
	fmt.Fprintf(stdout, "lab %s removed: %s, %s, %s%s in %s\n", lab, planner.Plural(r.Containers, "container"),
		planner.Plural(r.Interfaces, "host interface"), planner.Plural(r.FirewallRules, "firewall rule"), roots, time.Since(start).Round(time.Millisecond))
	return nil
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show a lab's nodes: container state, interfaces, gateways, published ports",
		ArgsUsage: "[NAME]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("netlab status takes at most one lab name")
			}
			return runStatus(c.Context, c.Args().First(), c.Bool("json"), c.App.Writer)
		},
	}
}

func runStatus(ctx context.Context, lab string, asJSON bool, stdout io.Writer) error {
	d, err := openAsRoot(ctx, "status")
	if err != nil {
		return err
	}
	defer d.Close()
	labs := []string{lab}
	if lab == "" {
		if labs, err = provider.Labs(ctx, d); err != nil {
			return err
		}
	}
	all := map[string][]provider.NodeState{}
	for _, l := range labs {
		if all[l], err = provider.Status(ctx, d, l); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	if len(labs) == 0 {
		fmt.Fprintln(stdout, "no labs on this host")
	}
	for _, l := range labs {
		printStatus(stdout, l, all[l])
	}
	return nil
}

func printStatus(w io.Writer, lab string, nodes []provider.NodeState) {
	fmt.Fprintf(w, "lab %s\n", lab)
	if pid, ok := provider.WatcherRunning(lab); ok {
		fmt.Fprintf(w, "watcher: running (pid %d), rewires restarted nodes; log %s\n", pid, provider.WatcherLog(lab))
	} else if len(nodes) > 0 {
		fmt.Fprintf(w, "watcher: not running: a restarted node stays unwired until netlab up\n")
	}
	t := tablewriter.NewWriter(w)
	t.Header("Node", "State", "Interfaces", "Gateway", "Published")
	for _, n := range nodes {
		state := n.State
		if n.State == "running" && !n.Ready {
			state += " (not wired)"
		}
		var ifs []string
		for _, i := range n.Interfaces {
			addrs := make([]string, len(i.Addrs))
			for k, a := range i.Addrs {
				addrs[k] = a
				if slices.Contains(i.DHCP, a) {
					addrs[k] += " (dhcp)"
				}
			}
			line := i.Name + " " + strings.Join(addrs, " ")
			switch {
			case i.Missing:
				line = i.Name + " (missing: deleted in the node or on the host; netlab up remakes it)"
			case !i.Up:
				line += " (down)"
			case !i.Carrier:
				line += " (no carrier: the other end or the host side is down)"
			}
			if i.Impair != "" {
				line += " (impaired: " + i.Impair + ")"
			}
			if i.HostSide != "" {
				line += " (" + i.HostSide + ": netlab up repairs it)"
			}
			ifs = append(ifs, line)
		}
		t.Append(n.Node, state, strings.Join(ifs, "\n"), strings.Join(n.Gateways, "\n"), strings.Join(n.Published, "\n"))
	}
	t.Render()
}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list the labs on this host, with the file each was brought up from",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			return runLs(c.Context, c.Bool("json"), c.App.Writer)
		},
	}
}

// labLine is a line of netlab ls.
type labLine struct {
	Lab     string `json:"lab"`
	Nodes   int    `json:"nodes"`
	Running int    `json:"running"`
	File    string `json:"file"` // absolute path of the lab file, from the containers' labels
}

func runLs(ctx context.Context, asJSON bool, stdout io.Writer) error {
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	labs, err := provider.Labs(ctx, d)
	if err != nil {
		return err
	}
	lines := []labLine{}
	for _, l := range labs {
		list, err := d.List(ctx, l)
		if err != nil {
			return err
		}
		line := labLine{Lab: l, Nodes: len(list)}
		for _, ct := range list {
			if ct.State == "running" {
				line.Running++
			}
			if f := ct.Labels[naming.LabelFile]; f != "" {
				line.File = f
			}
		}
		lines = append(lines, line)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(lines)
	}
	t := tablewriter.NewWriter(stdout)
	t.Header("Lab", "Nodes", "Running", "File")
	for _, l := range lines {
		t.Append(l.Lab, fmt.Sprint(l.Nodes), fmt.Sprint(l.Running), l.File)
	}
	return t.Render()
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command on a node, or a shell",
		ArgsUsage: "LAB NODE [-- CMD ARGS...]",
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageError("netlab exec takes a lab and a node: netlab exec LAB NODE [-- CMD...]")
			}
			cmd := args[2:]
			if len(cmd) > 0 && cmd[0] == "--" {
				cmd = cmd[1:]
			}
			return runExec(c.Context, args[0], args[1], cmd)
		},
	}
}

// runExec runs the command on the node through the node's runtime
// (docker exec, runc exec), on the user's terminal when there is one, and
// exits with its exit code.
func runExec(ctx context.Context, lab, node string, cmd []string) error {
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := faults.Find(ctx, d, lab, node)
	if err != nil {
		return faultError(err)
	}
	if len(cmd) == 0 {
		cmd = []string{"/bin/sh", "-c", "command -v bash >/dev/null && exec bash -l || exec sh -l"}
	}
	tty := term.IsTerminal(int(os.Stdin.Fd()))
	code, err := d.Exec(ctx, c.Name, cmd, engine.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, TTY: tty})
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code, err: errors.New("")}
	}
	return nil
}

// startGrace is how long up watches the nodes it released for a command
// that ends at once (a typo in command, a missing program).
const startGrace = 200 * time.Millisecond

// diedAtStart reports the released nodes whose command ended since the up
// began (the restart policy may have started them again already): the
// node, its exit code and its last log lines; it stops them, so that they
// do not start and die again and again, and fails.
func diedAtStart(ctx context.Context, d engine.Runtime, lab string, since time.Time, released []string, stderr io.Writer) error {
	if len(released) == 0 {
		return nil
	}
	time.Sleep(startGrace)
	died, err := d.Died(ctx, lab, since)
	if err != nil {
		return err
	}
	var dead []string
	for _, node := range slices.Sorted(slices.Values(released)) {
		code, ok := died[node]
		if !ok {
			continue
		}
		id := naming.Container(lab, node) // a runtime takes a container's name for its id
		dead = append(dead, node)
		how := fmt.Sprintf(", with exit code %d", code)
		if code < 0 {
			how = "" // the runtime does not know it
		}
		fmt.Fprintf(stderr, "node %s: its command ended right after it started%s; its last lines:\n", node, how)
		w := &prefixWriter{w: stderr, prefix: "  | "}
		if err := d.Logs(ctx, id, false, "10", w, w); err != nil {
			fmt.Fprintf(stderr, "  (no logs: %v)\n", err)
		}
		w.flush()
		if err := d.Stop(ctx, id); err != nil {
			fmt.Fprintf(stderr, "  (could not stop it: %v)\n", err)
		}
	}
	if len(dead) > 0 {
		return fmt.Errorf("lab %s: %s ended at start and stopped (%s): fix the command or image in the file and run netlab up again; netlab logs %s %s shows all of it",
			lab, planner.Plural(len(dead), "node"), strings.Join(dead, ", "), lab, dead[0])
	}
	return nil
}

// prefixWriter writes each line with a prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}
