package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
)

type checkOptions struct {
	target   string // a lab file, or the name of a running lab
	stage    string
	json     bool
	junit    string
	parallel int
}

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "run a lab's checks against the running lab: ping, tcp, udp, dns, path, http, route, address, run, signature",
		ArgsUsage: "FILE | LAB",
		Description: "Runs the checks: list of the lab file, from inside the nodes' network namespaces,\n" +
			"several at once, and prints a table and a summary line. LAB is the name of a running\n" +
			"lab, whose file is found again from its containers. Exits 0 when every check passed,\n" +
			"1 when one failed or the lab is not running, 2 for bad usage or an invalid lab file.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "stage", Aliases: []string{"s"}, Usage: "run only the checks of stage `S`"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON, for graders"},
			&cli.StringFlag{Name: "junit", Usage: "also write the results as JUnit XML to `FILE`"},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"p"}, Value: checks.DefaultWorkers, Usage: "checks at once"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab check takes one lab file or lab name, got %d arguments; see netlab check --help", c.NArg())
			}
			opts := checkOptions{target: c.Args().First(), stage: c.String("stage"), json: c.Bool("json"),
				junit: c.String("junit"), parallel: c.Int("parallel")}
			return runCheck(c.Context, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

var _ checks.Nodes = (*provider.LabNodes)(nil)

// errChecksFailed makes the exit code 1 once the results are printed.
var errChecksFailed = errors.New("")

func runCheck(ctx context.Context, opts checkOptions, stdout, stderr io.Writer) error {
	if opts.parallel < 1 {
		return usageError("--parallel must be at least 1")
	}
	var lab *spec.Lab
	isFile := false
	if isLabPath(opts.target) {
		isFile = true
		var err error
		if lab, err = loadLab(opts.target); err != nil {
			return err
		}
		if err := checkable(lab, opts.stage); err != nil {
			return err
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("netlab check needs root: it probes from inside the nodes' network namespaces; run it with sudo")
	}
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	name := opts.target
	if isFile {
		name = lab.Name
	}
	list, err := d.List(ctx, name)
	if err != nil {
		return err
	}
	running := 0
	for _, c := range list {
		if c.State == "running" {
			running++
		}
	}
	if !isFile {
		if len(list) == 0 {
			return fmt.Errorf("no lab %s is running on this host (netlab ls lists them); give its file to see what it checks", name)
		}
		if lab, err = labOfContainers(list); err != nil {
			return err
		}
		if err := checkable(lab, opts.stage); err != nil {
			return err
		}
	}
	if running == 0 {
		return fmt.Errorf("lab %s is not running: bring it up with netlab up %s, then check it", lab.Name, lab.File)
	}

	selected := checks.Select(lab.Checks, opts.stage)
	results := checks.Run(ctx, selected, &checks.NetProber{Nodes: provider.NewLabNodes(d, lab.Name)}, checks.Options{Workers: opts.parallel})
	if opts.junit != "" {
		if err := writeJUnit(opts.junit, lab.Name, results); err != nil {
			return err
		}
	}
	if opts.json {
		err = checks.WriteJSON(stdout, lab.Name, opts.stage, results)
	} else {
		err = checks.WriteTable(stdout, results)
	}
	if err != nil {
		return err
	}
	if _, failed := checks.Count(results); failed > 0 {
		return &exitError{code: exitFailure, err: errChecksFailed}
	}
	return nil
}

// checkable says what is wrong if the lab has no checks to run (of stage).
func checkable(lab *spec.Lab, stage string) error {
	where := lab.File
	if where == "" {
		where = "the lab file"
	}
	if len(lab.Checks) == 0 {
		return usageError("lab %s has no checks: add a checks: list to %s (see netlab schema)", lab.Name, where)
	}
	if stage != "" && len(checks.Select(lab.Checks, stage)) == 0 {
		stages := lab.StageNames()
		if len(stages) == 0 {
			return usageError("lab %s has no stages: its checks give no stage:", lab.Name)
		}
		return usageError("lab %s has no checks of stage %q (stages: %s)", lab.Name, stage, strings.Join(stages, ", "))
	}
	return nil
}

// labOfContainers loads the file a running lab was brought up from.
func labOfContainers(list []engine.Container) (*spec.Lab, error) {
	file := ""
	for _, c := range list {
		if f := c.Labels[naming.LabelFile]; f != "" {
			file = f
			break
		}
	}
	lab := list[0].Labels[naming.LabelLab]
	if file == "" {
		return nil, usageError("lab %s does not say which file it came from: give the file, netlab check FILE", lab)
	}
	if _, err := os.Stat(file); err != nil {
		return nil, usageError("lab %s was brought up from %s, which is not found from here: give the file, netlab check FILE", lab, file)
	}
	return loadLab(file)
}

func writeJUnit(file, lab string, results []checks.Result) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	if err := checks.WriteJUnit(f, lab, results); err != nil {
		f.Close()
		return fmt.Errorf("write JUnit XML to %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write JUnit XML to %s: %w", file, err)
	}
	return nil
}
