package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/serve"
	"github.com/netlab/netlab/serve/store"
)

// limitFlags are a class's limits as flags of class create and class
// limits.
func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "max-labs", Usage: "labs a student runs at once, over all their classes (0: no limit)"},
		&cli.IntFlag{Name: "max-nodes", Usage: "nodes a student runs at once, over their labs (0: no limit)"},
		&cli.Float64Flag{Name: "node-cpus", Usage: "CPU time of each node of the class's labs, in CPUs: 0.5 (0: no limit)"},
		&cli.StringFlag{Name: "node-memory", Usage: "memory of each node of the class's labs: 256MiB"},
		&cli.Int64Flag{Name: "node-pids", Usage: "processes of each node of the class's labs (0: no limit)"},
	}
}

func limitsFrom(c *cli.Context) store.Limits {
	return store.Limits{Labs: c.Int("max-labs"), Nodes: c.Int("max-nodes"), CPUs: c.Float64("node-cpus"),
		Memory: c.String("node-memory"), Pids: c.Int64("node-pids")}
}

func classLimitsCommand() *cli.Command {
	return &cli.Command{
		Name:      "limits",
		Usage:     "set a class's limits (those not given: none), or print them",
		ArgsUsage: "NAME",
		Description: "Per student: labs and nodes running at once (a start past them is refused,\n" +
			"saying why). Per node of the class's labs: CPU, memory and processes (its\n" +
			"cgroups), written into each lab file as its resources; a running lab takes\n" +
			"them when it starts again. With no limit flag it prints the class's limits.",
		Flags: append(limitFlags(), dataFlag),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab class limits takes one class name; see netlab class limits --help")
			}
			return runClassLimits(c.Context, c.Args().First(), c, c.App.Writer)
		},
	}
}

func runClassLimits(ctx context.Context, name string, c *cli.Context, stdout io.Writer) error {
	st, err := store.Open(ctx, c.String("data"))
	if err != nil {
		return err
	}
	defer st.Close()
	classes, err := st.Classes(ctx)
	if err != nil {
		return err
	}
	id := int64(0)
	for _, cl := range classes {
		if cl.Name == name {
			id = cl.ID
		}
	}
	if id == 0 {
		return usageError("no class %s in %s (netlab class create makes one)", name, c.String("data"))
	}
	l := limitsFrom(c)
	set := false
	for _, f := range []string{"max-labs", "max-nodes", "node-cpus", "node-memory", "node-pids"} {
		set = set || c.IsSet(f)
	}
	if set {
		if err := serve.SetClassLimits(ctx, st, id, l); err != nil {
			return serveError(err)
		}
	} else if l, err = st.ClassLimits(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "class %s: labs %s, nodes %s per student; each node: cpus %s, memory %s, pids %s\n", name,
		orAny(l.Labs != 0, fmt.Sprint(l.Labs)), orAny(l.Nodes != 0, fmt.Sprint(l.Nodes)),
		orAny(l.CPUs != 0, fmt.Sprint(l.CPUs)), orAny(l.Memory != "", l.Memory), orAny(l.Pids != 0, fmt.Sprint(l.Pids)))
	return nil
}

func orAny(set bool, v string) string {
	if set {
		return v
	}
	return "any"
}
