package main

import (
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/internet"
)

func newCommand() *cli.Command {
	return &cli.Command{
		Name: "new",
		Subcommands: []*cli.Command{{
			Name: "internet",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "ases", Value: 4, Usage: "ASes in all: tier-1, transit and stub"},
				&cli.IntFlag{Name: "routers", Value: 2, Usage: "routers in every AS"},
				&cli.IntFlag{Name: "ixps", Value: 1, Usage: "IXPs, each with a route server"},
				&cli.IntFlag{Name: "tier1", Usage: "tier-1 ASes (default: 1, or 2 from 4 ASes)"},
				&cli.StringFlag{Name: "name", Value: "internet", Usage: "the lab's name"},
				&cli.BoolFlag{Name: "no-config", Usage: "leave the transit and stub ASes for students to configure"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 0 {
					return usageError("netlab new internet takes no arguments, only flags; see netlab new internet --help")
				}
				data, err := internet.Generate(internet.Options{Name: c.String("name"), ASes: c.Int("ases"),
					Tier1: c.Int("tier1"), Routers: c.Int("routers"), IXPs: c.Int("ixps"), NoConfig: c.Bool("no-config")})
				if err != nil {
					return usageError("%v", err)
				}
				return writeLabFile(c, data)
			},
		}},
	}
}
