package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

type resetOptions struct {
	target   string // a lab file, a bundled lab, or the name of a running lab
	stage    string
	parallel int
}

func resetCommand() *cli.Command {
	return &cli.Command{
		Name:      "reset",
		Usage:     "bring a running lab back to its file, and to the start of a stage",
		ArgsUsage: "FILE | LAB",
		Description: "Repairs the lab as netlab up does, then removes what was changed by hand that the\n" +
			"file does not have: routes of the main table added with ip route (not the kernel's,\n" +
			"DHCP's, router advertisements' or routing daemons'), and addresses on the lab's\n" +
			"interfaces (not link-local, leased or SLAAC ones). With --stage S it then runs the\n" +
			"setup: commands of every stage up to and including S, in file order: the lab is where\n" +
			"a student starting stage S finds it. LAB is the name of a running lab, whose file is\n" +
			"found again from its containers.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "then run the setup of the stages up to `S`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: 8, Usage: "steps at once"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab reset takes one lab file or lab name, got %d arguments; see netlab reset --help", c.NArg())
			}
			opts := resetOptions{target: c.Args().First(), stage: c.String("stage"), parallel: c.Int("parallel")}
			return withLabs(c.Context, "reset", func(m *lab.Manager) error { return runReset(c.Context, m, opts, c.App.Writer, c.App.ErrWriter) })
		},
	}
}

func runReset(ctx context.Context, m *lab.Manager, opts resetOptions, stdout, stderr io.Writer) error {
	prog := newProgress(stdout, stderr)
	l, err := m.Reset(ctx, opts.target, lab.ResetOptions{Stage: opts.stage, Parallel: opts.parallel, Progress: prog.event})
	prog.finish()
	if err != nil || opts.stage == "" {
		return err
	}
	title := ""
	if s := l.Upto(opts.stage); len(s) > 0 && s[len(s)-1].Title != "" {
		title = ": " + s[len(s)-1].Title
	}
	fmt.Fprintf(stdout, "lab %s is at the start of stage %s%s; netlab check %s --stage %s\n", l.Name, opts.stage, title, l.Name, opts.stage)
	return nil
}
