// Commands on a running lab's nodes: exec, logs, link, stop, start,
// restart, impair, capture.

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

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/report"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name: "exec",
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
		Name: "logs",
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
		Name: "link",
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
	report.Link(stdout, node, iface, up, r)
	return nil
}

// nodeCommand is stop, start or restart of one node.
func nodeCommand(name string) *cli.Command {
	return &cli.Command{
		Name: name,
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
	prog := report.NewProgress(stdout, stderr)
	defer prog.Finish()
	var err error
	switch action {
	case "stop":
		if err := m.Stop(ctx, name, node); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stopped %s\n", node)
		return nil
	case "start":
		err = m.Start(ctx, name, node, prog.Event)
	default:
		err = m.Restart(ctx, name, node, prog.Event)
	}
	if err != nil {
		return err
	}
	prog.Finish()
	return printLab(ctx, m, name, stdout)
}

// printLab prints a lab's status, after a command that changed it.
func printLab(ctx context.Context, m *lab.Manager, name string, stdout io.Writer) error {
	st, err := m.Status(ctx, name)
	if err != nil {
		return err
	}
	return report.Status(stdout, st)
}

func impairCommand() *cli.Command {
	return &cli.Command{
		Name: "impair",
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
	prog := report.NewProgress(io.Discard, stderr)
	link, err := m.Impair(ctx, name, node, iface, im, prog.Event)
	prog.Finish()
	if err != nil {
		return err
	}
	report.Impaired(stdout, link)
	return nil
}

func captureCommand() *cli.Command {
	return &cli.Command{
		Name: "capture",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write pcap to `FILE` (- for standard output)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` packets"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (10s, 1m)"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageError("netlab capture takes a lab and NODE:IF or a network: netlab capture LAB NODE:IF [FILTER]")
			}
			filter := args[2:]
			if len(filter) > 0 && filter[0] == "--" {
				filter = filter[1:]
			}
			if c.Int("count") < 0 || c.Duration("duration") < 0 {
				return usageError("--count and --duration cannot be negative")
			}
			opts := capture.Options{Lab: args[0], Target: args[1], File: c.String("write"),
				Count: c.Int("count"), Duration: c.Duration("duration"), Filter: strings.Join(filter, " ")}
			return withLabs(c.Context, "capture", func(m *lab.Manager) error { return runCapture(c.Context, m, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

func runCapture(ctx context.Context, m *lab.Manager, opts capture.Options, stdout, stderr io.Writer) error {
	return m.Capture(ctx, opts, stdout, stderr)
}
