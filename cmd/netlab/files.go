package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/convert"
	"github.com/netlab/netlab/graph"
	"github.com/netlab/netlab/internet"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/report"
	"github.com/netlab/netlab/schema"
	"github.com/netlab/netlab/spec"
)

// fileCommands are the commands on lab files, which need no running lab.
func fileCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "validate", Action: runValidate},
		{Name: "plan", Action: runPlan, Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"}}},
		{Name: "graph", Action: runGraph, Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "text, svg, dot, mermaid or json"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		}},
		{Name: "schema", Action: runSchema},
		{Name: "convert", Action: runConvert, Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output"},
			&cli.BoolFlag{Name: "configure-all", Usage: "a mini-Internet: configure its NoConfig ASes too (the reference solution)"},
		}},
		{Name: "new", Subcommands: []*cli.Command{{Name: "internet", Action: runNewInternet, Flags: []cli.Flag{
			&cli.IntFlag{Name: "ases", Value: 4, Usage: "ASes in all: tier-1, transit and stub"},
			&cli.IntFlag{Name: "routers", Value: 2, Usage: "routers in every AS"},
			&cli.IntFlag{Name: "ixps", Value: 1, Usage: "IXPs, each with a route server"},
			&cli.IntFlag{Name: "tier1", Usage: "tier-1 ASes (default: 1, or 2 from 4 ASes)"},
			&cli.StringFlag{Name: "name", Value: "internet", Usage: "the lab's name"},
			&cli.BoolFlag{Name: "no-config", Usage: "leave the transit and stub ASes for students to configure"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		}}}},
	}
}

// loadLab loads a lab file, a converted lab or a bundled lab by name,
// printing the converter's notes; an invalid or missing file is a usage
// error.
func loadLab(file string, stderr io.Writer) (*spec.Lab, error) {
	return loadLabWith(file, convert.Options{}, stderr)
}

// loadLabWith is loadLab with the converters' options.
func loadLabWith(file string, opts convert.Options, stderr io.Writer) (*spec.Lab, error) {
	l, notes, err := lab.LoadWith(file, opts)
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	return l, err
}

// oneFile checks that a command got exactly one lab file.
func oneFile(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageError("netlab %s takes one lab file, got %d arguments; see netlab %s --help", c.Command.Name, c.NArg(), c.Command.Name)
	}
	return c.Args().First(), nil
}

func runValidate(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("netlab validate takes one or more lab files; see netlab validate --help")
	}
	var failed []error
	for _, f := range c.Args().Slice() {
		l, err := loadLab(f, c.App.ErrWriter)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(c.App.Writer, "%s: ok, lab %s: %s, %s, %s\n", f, l.Name, planner.Plural(len(l.Nodes), "node"),
			planner.Plural(len(l.Networks), "network"), planner.Plural(len(l.Links), "link"))
	}
	return errors.Join(failed...)
}

func runPlan(c *cli.Context) error {
	file, err := oneFile(c)
	if err != nil {
		return err
	}
	l, err := loadLab(file, c.App.ErrWriter)
	if err != nil {
		return err
	}
	p, err := lab.Plan(l)
	if err != nil {
		return fmt.Errorf("plan %s: %w", file, err)
	}
	return show(c, p, report.Plan)
}

func runGraph(c *cli.Context) error {
	file, err := oneFile(c)
	if err != nil {
		return err
	}
	output, format := c.String("output"), c.String("format")
	if format == "" {
		format = graph.FormatOf(output)
	}
	if !graph.Known(format) {
		return usageError("unknown graph format %q (known: %s)", format, strings.Join(graph.Formats, ", "))
	}
	l, err := loadLab(file, c.App.ErrWriter)
	if err != nil {
		return err
	}
	t := graph.FromLab(l)
	out, err := t.Render(format)
	if err != nil {
		return err
	}
	if output == "" {
		_, err := c.App.Writer.Write(out)
		return err
	}
	if err := os.WriteFile(output, out, 0o644); err != nil {
		return fmt.Errorf("write graph: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s (%s, %d nodes)\n", output, format, len(t.Nodes))
	return nil
}

func runSchema(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("netlab schema takes no arguments")
	}
	_, err := c.App.Writer.Write(schema.JSON)
	return err
}

func runConvert(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("netlab convert takes one lab directory or containerlab file: netlab convert DIR|FILE.clab.yml [-o lab.yaml]")
	}
	data, notes, _, err := lab.Convert(c.Args().First(), convert.Options{ConfigureAll: c.Bool("configure-all")})
	for _, n := range notes {
		fmt.Fprintln(c.App.ErrWriter, "note:", n)
	}
	if err != nil {
		return err
	}
	return writeLabFile(c, data)
}

func runNewInternet(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("netlab new internet takes no arguments, only flags; see netlab new internet --help")
	}
	data, err := internet.Generate(internet.Options{Name: c.String("name"), ASes: c.Int("ases"),
		Tier1: c.Int("tier1"), Routers: c.Int("routers"), IXPs: c.Int("ixps"), NoConfig: c.Bool("no-config")})
	if err != nil {
		return usageError("%v", err)
	}
	return writeLabFile(c, data)
}

// writeLabFile writes a lab file that a command made to --output, and
// says how to bring it up, or to standard output.
func writeLabFile(c *cli.Context, data []byte) error {
	out := c.String("output")
	if out == "" {
		_, err := c.App.Writer.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s: netlab up %s\n", out, out)
	return nil
}
