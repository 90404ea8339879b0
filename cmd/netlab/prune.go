package main

import (
	"context"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove the lab state, unpacked images and copies of netlab that no lab uses",
		Description: "Removes the state of labs that are neither up nor recorded for restore (runc\n" +
			"nodes' bundles in /var/lib/netlab/labs that a reboot stopped and nothing will\n" +
			"restore), the root filesystems unpacked for runc nodes (/var/lib/netlab/rootfs)\n" +
			"that no node of any lab was made on, and the copies of netlab that nodes run as\n" +
			"their init (" + lab.InitDir + ") that no node runs, and says how much disk space that freed.\n" +
			"What an up under way is using stays. The next up unpacks or copies again what it needs.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would go; remove nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab prune takes no arguments")
			}
			return withLabs(c.Context, "prune", func(m *lab.Manager) error {
				return runPrune(c.Context, m, c.Bool("dry-run"), c.Bool("json"), c.App.Writer, c.App.ErrWriter)
			})
		},
	}
}

func runPrune(ctx context.Context, m *lab.Manager, dryRun, asJSON bool, stdout, stderr io.Writer) error {
	res, err := m.Prune(ctx, lab.PruneOptions{DryRun: dryRun})
	if res == nil {
		return err
	}
	if asJSON {
		if jerr := writeJSON(stdout, res); jerr != nil {
			return jerr
		}
		return err
	}
	if len(res.Removed) > 0 {
		t := tablewriter.NewWriter(stdout)
		t.Header("What", "Directory", "Size")
		for _, p := range res.Removed {
			t.Append(p.Kind, p.Dir, bytesHuman(p.Bytes))
		}
		if terr := t.Render(); terr != nil {
			return terr
		}
	}
	verb := "freed"
	if dryRun {
		verb = "would free"
	}
	fmt.Fprintf(stdout, "%s %s (%d directories)\n", verb, bytesHuman(res.Freed), len(res.Removed))
	for _, s := range res.Skipped {
		fmt.Fprintln(stderr, "not looked at: "+s)
	}
	return err
}

// bytesHuman writes a size as du -h does, in powers of 1024.
func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
