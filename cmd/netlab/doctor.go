package main

import (
	"context"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/hostcheck"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "say what this host offers labs: Docker, runc, cgroups and the kernel's network features",
		Description: "Each kernel feature is tried in a network namespace made for the purpose and\n" +
			"removed afterwards (root needed); the table says what each enables and what does\n" +
			"not work without it. netlab up warns per node about features its lab uses that\n" +
			"this kernel lacks.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab doctor takes no arguments")
			}
			return runDoctor(c.Context, c.Bool("json"), c.App.Writer)
		},
	}
}

func runDoctor(ctx context.Context, asJSON bool, stdout io.Writer) error {
	r := hostcheck.Doctor(ctx)
	if asJSON {
		return writeJSON(stdout, r)
	}
	t := tablewriter.NewWriter(stdout)
	t.Header("Component", "State", "Version", "Enables", "Detail")
	for _, c := range r.Components {
		t.Append(c.Name, state(c.OK, "ok", "missing"), c.Version, wrap(c.Enables, 40), wrap(c.Detail, 50))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if r.KernelErr != "" {
		fmt.Fprintf(stdout, "kernel features: not probed: %s\n", r.KernelErr)
		return nil
	}
	t = tablewriter.NewWriter(stdout)
	t.Header("Kernel feature", "State", "Enables", "Without it")
	for _, f := range r.Kernel {
		t.Append(string(f.Feature), state(f.Present, "present", "absent"), wrap(f.Enables, 45), wrap(f.Without, 45))
	}
	return t.Render()
}

func state(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
