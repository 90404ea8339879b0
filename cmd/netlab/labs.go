package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

func labsCommand() *cli.Command {
	return &cli.Command{
		Name:  "labs",
		Usage: "list the bundled labs: what each teaches, its nodes and images",
		Description: "netlab carries a library of labs; bring one up by its name: netlab up ospf.\n" +
			"The Images column says which images a lab needs and whether they are built\n" +
			"(make images builds them all from Debian's packages).",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("netlab labs takes no arguments")
			}
			return runLabs(c.Context, c.Bool("json"), c.App.Writer)
		},
	}
}

func runLabs(ctx context.Context, asJSON bool, stdout io.Writer) error {
	out, err := lab.BundledLabs(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, out)
	}
	t := tablewriter.NewWriter(stdout)
	t.Header("Lab", "What it teaches", "Nodes", "Images")
	for _, b := range out {
		var images []string
		for _, image := range slices.Sorted(maps.Keys(b.Images)) {
			mark := ""
			switch {
			case !b.Checked:
			case b.Images[image]:
				mark = " (built)"
			default:
				mark = " (missing)"
			}
			images = append(images, image+mark)
		}
		t.Append(b.Name, wrap(b.About, 60), fmt.Sprint(b.Nodes), strings.Join(images, "\n"))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "bring one up: netlab up NAME    build missing images: make images")
	return nil
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
