//go:build noserve

package main

import (
	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/serve/store"
)

// The playground's netlab (make fopnp: -tags noserve, without the class
// server's packages) has serve and class only to say how to get them.
func serveCommand() *cli.Command { return withoutServer("serve") }
func classCommand() *cli.Command { return withoutServer("class") }

func withoutServer(name string) *cli.Command {
	return &cli.Command{Name: name, SkipFlagParsing: true, Action: func(*cli.Context) error { return store.BuiltIn() }}
}
