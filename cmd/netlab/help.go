package main

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/trust"
)

// commands.txt is the help of every command, as --help prints it: the
// line under its name in netlab --help (usage:), its arguments (args:)
// and its description. It is prose, kept in one place where it reads as
// it prints; docs/commands.md is checked against the commands and flags
// (TestDocsAgreeWithHelp).
//
//go:embed commands.txt
var commandsText string

// helpText is one command's help.
type helpText struct{ usage, args, description string }

// parseHelp reads commands.txt: a section per command, "== PATH" (the
// command's words after netlab, or netlab itself), then "args: " and
// "usage: " lines, then a blank line and the description.
func parseHelp(text string) (map[string]helpText, error) {
	paths := strings.NewReplacer("{trust.DefaultStore}", trust.DefaultStore, "{lab.InitDir}", lab.InitDir, "{lab.RecordDir}", lab.RecordDir)
	out := map[string]helpText{}
	for _, sec := range strings.Split("\n"+text, "\n== ")[1:] {
		head, desc, _ := strings.Cut(sec, "\n\n")
		lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
		var h helpText
		for _, l := range lines[1:] {
			switch k, v, _ := strings.Cut(l, ": "); k {
			case "usage":
				h.usage = v
			case "args":
				h.args = v
			default:
				return nil, fmt.Errorf("commands.txt: %s: unknown line %q", lines[0], l)
			}
		}
		h.description = paths.Replace(strings.TrimRight(desc, "\n"))
		out[lines[0]] = h
	}
	return out, nil
}

// describe gives the app and its commands their help from commands.txt.
func describe(app *cli.App) {
	help, err := parseHelp(commandsText)
	if err != nil {
		panic(err) // commands.txt is part of the binary: TestHelpCoversEveryCommand
	}
	app.Usage, app.Description = help["netlab"].usage, help["netlab"].description
	var walk func(prefix string, cs []*cli.Command)
	walk = func(prefix string, cs []*cli.Command) {
		for _, c := range cs {
			h := help[prefix+c.Name]
			c.Usage, c.ArgsUsage, c.Description = h.usage, h.args, h.description
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
}
