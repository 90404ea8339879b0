package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/spec"
)

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
			return withLabs(c.Context, "", func(m *lab.Manager) error { return runExec(c.Context, m, args[0], args[1], cmd) })
		},
	}
}

// runExec runs the command on the node, on the user's terminal when there
// is one, and exits with its exit code.
func runExec(ctx context.Context, m *lab.Manager, name, node string, cmd []string) error {
	tty := term.IsTerminal(int(os.Stdin.Fd()))
	code, err := m.Exec(ctx, name, node, cmd, lab.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, TTY: tty})
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code, err: errors.New("")}
	}
	return nil
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "a node's output: its command's, and netlab's init before it",
		ArgsUsage: "LAB NODE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until Ctrl-C"},
			&cli.StringFlag{Name: "tail", Value: "all", Usage: "only the last N lines"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 2 {
				return usageError("netlab logs takes a lab and a node: netlab logs LAB NODE")
			}
			return withLabs(c.Context, "", func(m *lab.Manager) error {
				return m.Logs(c.Context, args[0], args[1], c.Bool("follow"), c.String("tail"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func linkCommand() *cli.Command {
	return &cli.Command{
		Name:      "link",
		Usage:     "set a node's interface down (a pulled cable) or up again, while the lab runs",
		ArgsUsage: "LAB NODE:IF down|up",
		Description: "An interface on a network: its port's host side goes down, so the node sees no carrier.\n" +
			"A link end: the interface goes down in the node, and its peer loses carrier.\n" +
			"netlab up restores what the file says.",
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 3 || (args[2] != "down" && args[2] != "up") || !strings.Contains(args[1], ":") {
				return usageError("netlab link takes a lab, NODE:IF and down or up: netlab link LAB NODE:IF down")
			}
			node, iface, _ := strings.Cut(args[1], ":")
			return withLabs(c.Context, "", func(m *lab.Manager) error {
				return runLink(c.Context, m, args[0], node, iface, args[2] == "up", c.App.Writer)
			})
		},
	}
}

func runLink(ctx context.Context, m *lab.Manager, name, node, iface string, up bool, stdout io.Writer) error {
	r, err := m.Link(ctx, name, node, iface, up)
	if err != nil {
		return err
	}
	state := map[bool]string{true: "up", false: "down"}[up]
	if !r.Changed {
		fmt.Fprintf(stdout, "%s:%s is %s already (%s)\n", node, iface, state, r.Where)
		return nil
	}
	fmt.Fprintf(stdout, "%s:%s %s (%s)\n", node, iface, state, r.Where)
	return nil
}

// nodeCommand is stop, start or restart of one node.
func nodeCommand(name, usage string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "LAB NODE",
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 2 {
				return usageError("netlab %s takes a lab and a node: netlab %s LAB NODE", name, name)
			}
			return withLabs(c.Context, "", func(m *lab.Manager) error {
				return runNode(c.Context, m, name, args[0], args[1], c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runNode(ctx context.Context, m *lab.Manager, action, name, node string, stdout, stderr io.Writer) error {
	prog := newProgress(stdout, stderr)
	defer prog.finish()
	var err error
	switch action {
	case "stop":
		if err := m.Stop(ctx, name, node); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stopped %s\n", node)
		return nil
	case "start":
		err = m.Start(ctx, name, node, prog.event)
	default:
		err = m.Restart(ctx, name, node, prog.event)
	}
	if err != nil {
		return err
	}
	prog.finish()
	return printLab(ctx, m, name, stdout)
}

// printLab prints a lab's status, after a command that changed it.
func printLab(ctx context.Context, m *lab.Manager, name string, stdout io.Writer) error {
	st, err := m.Status(ctx, name)
	if err != nil {
		return err
	}
	printStatus(stdout, st)
	return nil
}

func impairCommand() *cli.Command {
	return &cli.Command{
		Name:      "impair",
		Usage:     "delay, jitter, lose or rate-limit a point-to-point link's frames while the lab runs",
		ArgsUsage: "LAB NODE:IF",
		Description: "The link ending at NODE:IF moves onto netlab's relay (this kernel may have no netem),\n" +
			"without restarting its nodes: their interfaces keep their names, addresses and routes.\n" +
			"The impairments given replace the link's current ones; --clear puts the link back to a\n" +
			"plain veth pair. netlab up restores what the file says.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "delay", Usage: "one-way delay, e.g. 100ms"},
			&cli.StringFlag{Name: "jitter", Usage: "delay variation, e.g. 10ms (needs --delay)"},
			&cli.StringFlag{Name: "loss", Usage: "frames lost, e.g. 5%"},
			&cli.StringFlag{Name: "rate", Usage: "rate limit, e.g. 1mbit"},
			&cli.BoolFlag{Name: "clear", Usage: "no impairment: a plain link again"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 2 || !strings.Contains(args[1], ":") {
				return usageError("netlab impair takes a lab and NODE:IF: netlab impair LAB NODE:IF --delay 100ms")
			}
			im := lab.Impairment{Delay: c.String("delay"), Jitter: c.String("jitter"), Loss: c.String("loss"), Rate: c.String("rate")}
			if c.Bool("clear") == (im != lab.Impairment{}) {
				return usageError("give impairments (--delay, --jitter, --loss, --rate) or --clear")
			}
			node, iface, _ := strings.Cut(args[1], ":")
			return withLabs(c.Context, "", func(m *lab.Manager) error {
				return runImpair(c.Context, m, args[0], node, iface, im, c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runImpair(ctx context.Context, m *lab.Manager, name, node, iface string, im lab.Impairment, stdout, stderr io.Writer) error {
	prog := newProgress(io.Discard, stderr)
	link, err := m.Impair(ctx, name, node, iface, im, prog.event)
	prog.finish()
	if err != nil {
		return err
	}
	if link.Impair.IsZero() {
		fmt.Fprintf(stdout, "%s <-> %s: a plain link again\n", link.Endpoints[0], link.Endpoints[1])
		return nil
	}
	fmt.Fprintf(stdout, "%s <-> %s: %s (each way, through netlab's relay)\n", link.Endpoints[0], link.Endpoints[1], describeImpairment(link))
	return nil
}

func describeImpairment(l *spec.Link) string {
	var parts []string
	for _, p := range [][2]string{{"delay", l.Delay}, {"jitter", l.Jitter}, {"loss", l.Loss}, {"rate", l.Rate}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	return strings.Join(parts, ", ")
}
