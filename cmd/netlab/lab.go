package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/convert"
	"github.com/netlab/netlab/graph"
	"github.com/netlab/netlab/labs"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/schema"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/wire"
)

// loadLab loads a lab file, or a bundled lab by name (netlab labs lists
// them); a missing file is a usage error.
func loadLab(file string) (*spec.Lab, error) {
	if r, ok, err := convert.Convert(file); ok {
		for _, n := range r.Notes {
			fmt.Fprintln(os.Stderr, "note:", n)
		}
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		lab, err := spec.Parse(r.YAML, r.Source+" (converted; netlab convert shows it)")
		if err == nil {
			// What up, start and the watcher take again; binds are relative to it.
			lab.File, _ = filepath.Abs(file)
		}
		return lab, err
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) && labs.Has(file) {
		path, err := labs.Path(file)
		if err != nil { // not root: read it from the binary
			data, _ := labs.Content(file)
			return spec.Parse(data, file+".yaml")
		}
		file = path
	}
	lab, err := spec.Load(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageError("lab file %s does not exist", file)
	}
	return lab, err
}

// oneFile checks that a command got exactly one lab file.
func oneFile(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageError("netlab %s takes one lab file, got %d arguments; see netlab %s --help", c.Command.Name, c.NArg(), c.Command.Name)
	}
	return c.Args().First(), nil
}

type validateOptions struct{ files []string }

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check lab files and report every problem at once",
		ArgsUsage: "FILE...",
		Description: "Checks each lab file against the schema and the semantic rules (references,\n" +
			"addresses, names, reachability of gateways). Problems are printed as\n" +
			"file:line:col: yaml.path: message. Exits 2 if any file is invalid.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("netlab validate takes one or more lab files; see netlab validate --help")
			}
			return runValidate(c.Context, validateOptions{files: c.Args().Slice()}, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runValidate(_ context.Context, opts validateOptions, stdout, stderr io.Writer) error {
	var failed []error
	for _, f := range opts.files {
		lab, err := loadLab(f)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok, lab %s: %s, %s, %s\n", f, lab.Name, planner.Plural(len(lab.Nodes), "node"),
			planner.Plural(len(lab.Networks), "network"), planner.Plural(len(lab.Links), "link"))
	}
	return errors.Join(failed...)
}

type planOptions struct {
	file string
	json bool
}

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show the steps that bring a lab up, and what each waits for",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"},
		},
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			return runPlan(c.Context, planOptions{file: file, json: c.Bool("json")}, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runPlan(_ context.Context, opts planOptions, stdout, _ io.Writer) error {
	lab, err := loadLab(opts.file)
	if err != nil {
		return err
	}
	p, err := buildPlan(lab)
	if err != nil {
		return fmt.Errorf("plan %s: %w", opts.file, err)
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	fmt.Fprintln(stdout, p.Summary())
	t := tablewriter.NewWriter(stdout)
	t.Header("#", "Step", "Action", "After")
	for i, s := range p.Steps {
		deps := "-"
		if len(s.Deps) > 0 {
			deps = strings.Join(s.Deps, "\n")
		}
		if err := t.Append(fmt.Sprint(i+1), s.ID, s.Describe(), deps); err != nil {
			return err
		}
	}
	return t.Render()
}

type graphOptions struct {
	file   string
	format string
	output string
}

var graphFormats = map[string]string{".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json", ".txt": "text"}

func graphCommand() *cli.Command {
	return &cli.Command{
		Name:      "graph",
		Usage:     "draw a lab's topology",
		ArgsUsage: "FILE",
		Description: "Draws nodes with their addresses, networks as segments, point-to-point links as\n" +
			"edges, routers and NAT firewalls marked. Without -o it prints a text tree; with\n" +
			"-o the format follows the file's extension (.svg .dot .mmd .json .txt), SVG if\n" +
			"there is none. SVG is laid out by netlab itself: no Graphviz needed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "text, svg, dot, mermaid or json"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			file, err := oneFile(c)
			if err != nil {
				return err
			}
			return runGraph(c.Context, graphOptions{file: file, format: c.String("format"), output: c.String("output")}, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runGraph(_ context.Context, opts graphOptions, stdout, stderr io.Writer) error {
	format := opts.format
	if format == "" {
		format = "text"
		if opts.output != "" {
			format = "svg"
			if f, ok := graphFormats[strings.ToLower(filepath.Ext(opts.output))]; ok {
				format = f
			}
		}
	}
	lab, err := loadLab(opts.file)
	if err != nil {
		return err
	}
	t := graph.FromLab(lab)
	var out []byte
	switch format {
	case "text":
		out = []byte(t.Text())
	case "svg":
		out = []byte(t.SVG())
	case "dot":
		out = []byte(t.DOT())
	case "mermaid":
		out = []byte(t.Mermaid())
	case "json":
		out = t.JSON()
	default:
		return usageError("unknown graph format %q (known: dot, json, mermaid, svg, text)", format)
	}
	if opts.output == "" {
		_, err := stdout.Write(out)
		return err
	}
	if err := os.WriteFile(opts.output, out, 0o644); err != nil {
		return fmt.Errorf("write graph: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %d nodes)\n", opts.output, format, len(t.Nodes))
	return nil
}

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of lab files, for editors",
		Description: "Editors that speak the YAML language server check lab files as you type with\n" +
			"  # yaml-language-server: $schema=path/to/lab.schema.json\n" +
			"at the top of the file:  netlab schema > lab.schema.json",
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab schema takes no arguments")
			}
			_, err := c.App.Writer.Write(schema.JSON)
			return err
		},
	}
}

// buildPlan plans a lab for this machine: VLANs are tagged where the kernel
// has 802.1Q devices and bridge VLAN filtering (probed only for labs with
// VLANs, and only as root; otherwise they are one bridge each).
func buildPlan(lab *spec.Lab) (*planner.Plan, error) {
	var opts planner.Options
	if lab.UsesVLANs() && os.Geteuid() == 0 {
		opts.TaggedVLANs = wire.KernelHasTaggedVLANs()
	}
	return planner.BuildWith(lab, opts)
}

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "write a Kathará lab directory (lab.conf) or a containerlab topology (*.clab.yml) as a netlab lab file",
		ArgsUsage: "DIR|FILE.clab.yml",
		Description: "Collision domains become networks, NODE[N] interfaces ethN, Kathará's images netlab's\n" +
			"offline ones; each node runs Kathará's boot sequence (NODE/ copied into /, shared.startup,\n" +
			"NODE.startup, [exec]) once wired. Options netlab has no meaning for are noted on stderr\n" +
			"with their lab.conf line. netlab up DIR does the same without writing a file.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab convert takes one lab directory or containerlab file: netlab convert DIR|FILE.clab.yml [-o lab.yaml]")
			}
			dir := c.Args().First()
			r, ok, err := convert.Convert(dir)
			if !ok {
				return usageError("%s is neither a Kathará lab (a folder with lab.conf) nor a containerlab topology (*.clab.yml)", dir)
			}
			for _, n := range r.Notes {
				fmt.Fprintln(c.App.ErrWriter, "note:", n)
			}
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			data := r.YAML
			if _, err := spec.Parse(data, "converted "+dir); err != nil {
				return fmt.Errorf("the converted lab does not validate (a netlab bug; please report it): %w", err)
			}
			if out := c.String("output"); out != "" {
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(c.App.ErrWriter, "wrote %s: netlab up %s\n", out, out)
				return nil
			}
			_, err = c.App.Writer.Write(data)
			return err
		},
	}
}

// isLabPath tells whether target names a lab on disk (a lab file, a
// containerlab topology or a Kathará folder) rather than a running lab.
func isLabPath(target string) bool {
	st, err := os.Stat(target)
	return err == nil && (!st.IsDir() || convert.IsKathara(target))
}
