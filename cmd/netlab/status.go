package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
)

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
		Name:      "down",
		Usage:     "remove a lab and everything it made, with or without its file",
		ArgsUsage: "NAME | -f FILE",
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
	opts.Progress = newProgress(stdout, stderr).event
	r, err := m.Down(ctx, name, opts)
	if err != nil {
		return err
	}
	if r.Nothing() {
		fmt.Fprintf(stdout, "lab %s: nothing to remove\n", name)
		return nil
	}
	roots := ""
	if r.ImageRoots > 0 {
		roots = ", " + planner.Plural(r.ImageRoots, "unpacked image") + " (down --keep-cache keeps them)"
	}
	fmt.Fprintf(stdout, "lab %s removed: %s, %s, %s%s in %s\n", name, planner.Plural(r.Containers, "container"),
		planner.Plural(r.Interfaces, "host interface"), planner.Plural(r.FirewallRules, "firewall rule"), roots, r.Took)
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
			return withLabs(c.Context, "status", func(m *lab.Manager) error {
				return runStatus(c.Context, m, c.Args().First(), c.Bool("json"), c.App.Writer)
			})
		},
	}
}

func runStatus(ctx context.Context, m *lab.Manager, name string, asJSON bool, stdout io.Writer) error {
	names := []string{name}
	if name == "" {
		var err error
		if names, err = m.Labs(ctx); err != nil {
			return err
		}
	}
	all := map[string][]lab.NodeState{}
	var states []*lab.Status
	for _, l := range names {
		st, err := m.Status(ctx, l)
		if err != nil {
			return err
		}
		all[l] = st.Nodes
		states = append(states, st)
	}
	if asJSON {
		return writeJSON(stdout, all)
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "no labs on this host")
	}
	for _, st := range states {
		printStatus(stdout, st)
	}
	return nil
}

func printStatus(w io.Writer, st *lab.Status) {
	fmt.Fprintf(w, "lab %s\n", st.Lab)
	if st.WatcherPid != 0 {
		fmt.Fprintf(w, "watcher: running (pid %d), rewires restarted nodes; log %s\n", st.WatcherPid, st.WatcherLog)
	} else if len(st.Nodes) > 0 {
		fmt.Fprintf(w, "watcher: not running: a restarted node stays unwired until netlab up\n")
	}
	t := tablewriter.NewWriter(w)
	t.Header("Node", "State", "Interfaces", "Gateway", "Published")
	for _, n := range st.Nodes {
		state := n.State
		if n.State == "running" && !n.Ready {
			state += " (not wired)"
		}
		var ifs []string
		for _, i := range n.Interfaces {
			ifs = append(ifs, interfaceLine(i))
		}
		t.Append(n.Node, state, strings.Join(ifs, "\n"), strings.Join(n.Gateways, "\n"), strings.Join(n.Published, "\n"))
	}
	t.Render()
}

// interfaceLine is an interface of netlab status: its name, addresses and
// whatever is wrong with it.
func interfaceLine(i lab.IfaceState) string {
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
	return line
}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list the labs on this host, with the file each was brought up from",
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
	t := tablewriter.NewWriter(stdout)
	t.Header("Lab", "Nodes", "Running", "File")
	for _, l := range labs {
		t.Append(l.Lab, fmt.Sprint(l.Nodes), fmt.Sprint(l.Running), l.File)
	}
	return t.Render()
}
