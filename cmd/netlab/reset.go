package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/wire"
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
			return runReset(c.Context, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runReset(ctx context.Context, opts resetOptions, stdout, stderr io.Writer) error {
	file, lab, err := resetTarget(ctx, opts.target)
	if err != nil {
		return err
	}
	var stages []*spec.Stage
	if opts.stage != "" {
		if len(lab.Stages) == 0 {
			return usageError("lab %s has no stages: (a list of name, title, setup) to reset to", lab.Name)
		}
		if stages = lab.Upto(opts.stage); stages == nil {
			return usageError("lab %s has no stage %q (stages: %s)", lab.Name, opts.stage, strings.Join(lab.StageNames(), ", "))
		}
	}
	if err := runUp(ctx, upOptions{file: file, parallel: opts.parallel}, stdout, stderr); err != nil {
		return err
	}
	p, err := buildPlan(lab)
	if err != nil {
		return err
	}
	d, err := provider.Open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	nodes := provider.NewLabNodes(d, lab.Name)
	removed := 0
	for _, n := range lab.SortedNodes() {
		k, err := pruneNode(ctx, nodes, p, n.Name, stdout)
		removed += k
		if err != nil {
			return err
		}
	}
	if removed == 0 {
		fmt.Fprintf(stdout, "lab %s: nothing added by hand to remove\n", lab.Name)
	}
	for _, s := range stages {
		for _, st := range s.Setup {
			fmt.Fprintf(stdout, "stage %s setup: %s: %s\n", s.Name, st.On, st.Run)
			out, code, err := nodes.Exec(ctx, st.On, st.Run)
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("stage %s setup on %s failed (exit %d): %s\n%s", s.Name, st.On, code, st.Run, out)
			}
		}
	}
	if opts.stage != "" {
		title := ""
		if s := stages[len(stages)-1]; s.Title != "" {
			title = ": " + s.Title
		}
		fmt.Fprintf(stdout, "lab %s is at the start of stage %s%s; netlab check %s --stage %s\n", lab.Name, opts.stage, title, lab.Name, opts.stage)
	}
	return nil
}

// resetTarget finds the lab file: a file, the file a running lab came from,
// or a bundled lab.
func resetTarget(ctx context.Context, target string) (string, *spec.Lab, error) {
	if isLabPath(target) {
		lab, err := loadLab(target)
		return target, lab, err
	}
	if os.Geteuid() != 0 {
		return "", nil, errors.New("netlab reset needs root: it changes the nodes' routes and addresses; run it with sudo")
	}
	d, err := provider.Open(ctx)
	if err != nil {
		return "", nil, err
	}
	defer d.Close()
	list, err := d.List(ctx, target)
	if err != nil {
		return "", nil, err
	}
	if len(list) == 0 {
		lab, err := loadLab(target) // a bundled lab, or a usage error
		return target, lab, err
	}
	lab, err := labOfContainers(list)
	if err != nil {
		return "", nil, err
	}
	return lab.File, lab, nil
}

// pruneNode removes from node n the routes and addresses the plan does not
// give it, prints them and returns how many.
func pruneNode(ctx context.Context, nodes *provider.LabNodes, p *planner.Plan, n string, stdout io.Writer) (int, error) {
	var routes []planner.Route
	var addrs []planner.Addr
	var dhcp []string
	for _, s := range p.Steps {
		if s.Node != n {
			continue
		}
		switch {
		case s.Kind == planner.KindRoute && s.Route != nil:
			routes = append(routes, *s.Route)
		case s.Kind == planner.KindAddr && s.Addr != nil:
			addrs = append(addrs, *s.Addr)
			if s.Addr.DHCP {
				dhcp = append(dhcp, s.Addr.Iface)
			}
		}
	}
	ns, err := nodes.OpenNS(ctx, n)
	if err != nil {
		return 0, err
	}
	defer ns.Close()
	gone, err := wire.PruneRoutes(ns, routes, dhcp)
	for _, r := range gone {
		fmt.Fprintf(stdout, "%s: removed route %s\n", n, r)
	}
	if err != nil {
		return len(gone), fmt.Errorf("node %s: %w", n, err)
	}
	gone2, err := wire.PruneAddrs(ns, addrs)
	for _, a := range gone2 {
		fmt.Fprintf(stdout, "%s: removed address %s\n", n, a)
	}
	if err != nil {
		return len(gone) + len(gone2), fmt.Errorf("node %s: %w", n, err)
	}
	return len(gone) + len(gone2), nil
}
