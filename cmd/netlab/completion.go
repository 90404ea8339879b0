package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/completion"
	"github.com/netlab/netlab/lab"
)

func completionCommand() *cli.Command {
	return &cli.Command{
		Name: "completion",
		Action: func(c *cli.Context) error {
			script, ok := completion.Script(c.Args().First())
			if c.NArg() != 1 || !ok {
				return usageError("netlab completion takes one shell: bash, zsh or fish")
			}
			fmt.Fprint(c.App.Writer, script)
			return nil
		},
	}
}

// completeLabNode completes a running lab's name, then one of its nodes
// (NODE:IF for its interfaces when withIfaces).
func completeLabNode(withIfaces bool) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		ctx, cancel := context.WithTimeout(c.Context, 3*time.Second)
		defer cancel()
		m, err := lab.Open(ctx, lab.Options{})
		if err != nil {
			return
		}
		defer m.Close()
		for _, s := range completion.LabNode(ctx, m, c.Args().Slice(), withIfaces) {
			fmt.Fprintln(c.App.Writer, s)
		}
	}
}
