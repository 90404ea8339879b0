package main

import (
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

// nodeCommands are the commands on a running lab's nodes, their
// interfaces and their links.
func nodeCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "exec", Action: runExec, BashComplete: completeLabNode(false)},
		{Name: "capture", Action: runCapture, BashComplete: completeLabNode(true), Flags: []cli.Flag{
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write pcap to `FILE` (- for standard output)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` packets"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (10s, 1m)"},
		}},
		{Name: "link", Action: runLink, BashComplete: completeLabNode(true)},
		{Name: "impair", Action: runImpair, BashComplete: completeLabNode(true), Flags: []cli.Flag{
			&cli.StringFlag{Name: "delay", Usage: "one-way delay, e.g. 100ms"},
			&cli.StringFlag{Name: "jitter", Usage: "delay variation, e.g. 10ms (needs --delay)"},
			&cli.StringFlag{Name: "loss", Usage: "frames lost, e.g. 5%"},
			&cli.StringFlag{Name: "rate", Usage: "rate limit, e.g. 1mbit"},
			&cli.BoolFlag{Name: "clear", Usage: "no impairment: a plain link again"},
		}},
		{Name: "logs", Action: runLogs, BashComplete: completeLabNode(false), Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until Ctrl-C"},
			&cli.StringFlag{Name: "tail", Value: "all", Usage: "only the last N lines"},
		}},
		{Name: "stop", Action: runNode, BashComplete: completeLabNode(false)},
		{Name: "start", Action: runNode, BashComplete: completeLabNode(false)},
		{Name: "restart", Action: runNode, BashComplete: completeLabNode(false)},
	}
}

// runExec runs the command on the node, on the user's terminal when there
// is one, and exits with its exit code.
func runExec(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) < 2 {
		return usageError("netlab exec takes a lab and a node: netlab exec LAB NODE [-- CMD...]")
	}
	cmd := args[2:]
	if len(cmd) > 0 && cmd[0] == "--" {
		cmd = cmd[1:]
	}
	stdio := lab.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, TTY: term.IsTerminal(int(os.Stdin.Fd()))}
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		code, err := m.Exec(c.Context, args[0], args[1], cmd, stdio)
		if err != nil {
			return err
		}
		if code != 0 {
			return &exitError{code: code, err: errors.New("")}
		}
		return nil
	})
}

func runLogs(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) != 2 {
		return usageError("netlab logs takes a lab and a node: netlab logs LAB NODE")
	}
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		return m.Logs(c.Context, args[0], args[1], c.Bool("follow"), c.String("tail"), c.App.Writer, c.App.ErrWriter)
	})
}

func runLink(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) != 3 || (args[2] != "down" && args[2] != "up") || !strings.Contains(args[1], ":") {
		return usageError("netlab link takes a lab, NODE:IF and down or up: netlab link LAB NODE:IF down")
	}
	node, iface, _ := strings.Cut(args[1], ":")
	up := args[2] == "up"
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		r, err := m.Link(c.Context, args[0], node, iface, up)
		if err != nil {
			return err
		}
		report.Link(c.App.Writer, node, iface, up, r)
		return nil
	})
}

// runNode is stop, start or restart of one node.
func runNode(c *cli.Context) error {
	action, args := c.Command.Name, c.Args().Slice()
	if len(args) != 2 {
		return usageError("netlab %s takes a lab and a node: netlab %s LAB NODE", action, action)
	}
	name, node, stdout := args[0], args[1], c.App.Writer
	return withLabs(c.Context, "", func(m *lab.Manager) error {
		prog := report.NewProgress(stdout, c.App.ErrWriter)
		defer prog.Finish()
		var err error
		switch action {
		case "stop":
			if err := m.Stop(c.Context, name, node); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "stopped %s\n", node)
			return nil
		case "start":
			err = m.Start(c.Context, name, node, prog.Event)
		default:
			err = m.Restart(c.Context, name, node, prog.Event)
		}
		if err != nil {
			return err
		}
		prog.Finish()
		return printLab(c.Context, m, name, stdout)
	})
}

func runImpair(c *cli.Context) error {
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
		prog := report.NewProgress(io.Discard, c.App.ErrWriter)
		link, err := m.Impair(c.Context, args[0], node, iface, im, prog.Event)
		prog.Finish()
		if err != nil {
			return err
		}
		report.Impaired(c.App.Writer, link)
		return nil
	})
}

func runCapture(c *cli.Context) error {
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
	return withLabs(c.Context, "capture", func(m *lab.Manager) error {
		return m.Capture(c.Context, opts, c.App.Writer, c.App.ErrWriter)
	})
}
