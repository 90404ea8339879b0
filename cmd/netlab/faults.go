package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/faults"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

// faultError turns faults' usage errors into exit code 2.
func faultError(err error) error {
	if errors.Is(err, faults.ErrUsage) {
		return &exitError{code: exitUsage, err: errors.New(strings.TrimPrefix(err.Error(), faults.ErrUsage.Error()+": "))}
	}
	return err
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
			return runLink(c.Context, args[0], node, iface, args[2] == "up", c.App.Writer)
		},
	}
}

func runLink(ctx context.Context, lab, node, iface string, up bool, stdout io.Writer) error {
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := faults.SetLink(ctx, d, lab, node, iface, up)
	if err != nil {
		return faultError(err)
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
			return runNode(c.Context, name, args[0], args[1], c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runNode(ctx context.Context, action, lab, node string, stdout, stderr io.Writer) error {
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if action == "stop" || action == "restart" {
		if err := faults.Stop(ctx, d, lab, node); err != nil {
			return faultError(err)
		}
		fmt.Fprintf(stdout, "stopped %s\n", node)
		if action == "stop" {
			return nil
		}
	}
	file, err := faults.Start(ctx, d, lab, node)
	if err != nil {
		return faultError(err)
	}
	fmt.Fprintf(stdout, "started %s; wiring it\n", node)
	if _, err := os.Stat(file); file == "" || err != nil {
		return fmt.Errorf("node %s started, but the lab file it came from (%q) is gone: run netlab up FILE to wire it", node, file)
	}
	return runUp(ctx, upOptions{file: file, parallel: 8}, stdout, stderr)
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
			d, err := provider.Open(c.Context)
			if err != nil {
				return err
			}
			defer d.Close()
			ct, err := faults.Find(c.Context, d, args[0], args[1])
			if err != nil {
				return faultError(err)
			}
			return d.Logs(c.Context, ct.ID, c.Bool("follow"), c.String("tail"), c.App.Writer, c.App.ErrWriter)
		},
	}
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
			delay, jitter, loss, rate := c.String("delay"), c.String("jitter"), c.String("loss"), c.String("rate")
			if c.Bool("clear") == (delay+jitter+loss+rate != "") {
				return usageError("give impairments (--delay, --jitter, --loss, --rate) or --clear")
			}
			node, iface, _ := strings.Cut(args[1], ":")
			return runImpair(c.Context, args[0], node, iface, [4]string{delay, jitter, loss, rate}, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runImpair(ctx context.Context, labName, node, iface string, im [4]string, stdout, stderr io.Writer) error {
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	ct, err := faults.Find(ctx, d, labName, node)
	d.Close()
	if err != nil {
		return faultError(err)
	}
	file := ct.Labels[naming.LabelFile]
	lab, err := loadLab(file)
	if err != nil {
		return fmt.Errorf("lab file %s of lab %s: %w", file, labName, err)
	}
	var link *spec.Link
	for _, l := range lab.Links {
		for _, e := range l.Endpoints {
			if e.Node == node && e.Interface == iface {
				link = l
			}
		}
	}
	if link == nil {
		return usageError("%s:%s ends no point-to-point link of lab %s: impairments are for links (links: in the file)", node, iface, labName)
	}
	if err := link.SetImpairment(im[0], im[1], im[2], im[3]); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := runUp(ctx, upOptions{file: file, parallel: 8, lab: lab}, io.Discard, stderr); err != nil {
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
