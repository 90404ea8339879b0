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
		&cli.IntFlag{Name: "max-lab-nodes", Usage: "nodes a lab of the class may have: a bigger lab file is refused (0: no limit)"},
		&cli.Float64Flag{Name: "node-cpus", Usage: "CPU time of each node of the class's labs, in CPUs: 0.5 (0: no limit)"},
		&cli.StringFlag{Name: "node-memory", Usage: "memory of each node of the class's labs: 256MiB"},
		&cli.Int64Flag{Name: "node-pids", Usage: "processes of each node of the class's labs (0: no limit)"},
	}
}

func limitsFrom(c *cli.Context) store.Limits {
	return store.Limits{Labs: c.Int("max-labs"), Nodes: c.Int("max-nodes"), LabNodes: c.Int("max-lab-nodes"), CPUs: c.Float64("node-cpus"),
		Memory: c.String("node-memory"), Pids: c.Int64("node-pids")}
}

func classLimitsCommand() *cli.Command {
	return &cli.Command{
		Name:  "limits",
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
	var set *store.Limits
	for _, f := range []string{"max-labs", "max-nodes", "max-lab-nodes", "node-cpus", "node-memory", "node-pids"} {
		if c.IsSet(f) {
			l := limitsFrom(c)
			set = &l
		}
	}
	l, err := serve.ClassLimitsIn(ctx, c.String("data"), name, set)
	if err != nil {
		return serveError(err)
	}
	fmt.Fprintf(stdout, "class %s: labs %s, nodes %s per student; nodes %s per lab; each node: cpus %s, memory %s, pids %s\n", name,
		orAny(l.Labs), orAny(l.Nodes), orAny(l.LabNodes), orAny(l.CPUs), orAny(l.Memory), orAny(l.Pids))
	return nil
}

func orAny[T comparable](v T) string {
	if v == *new(T) {
		return "any"
	}
	return fmt.Sprint(v)
}
