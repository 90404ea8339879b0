package main

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/trust"
)

// commands.yaml is the help of every command, by the command's words after
// netlab: prose kept in one place where it reads as it prints.
// docs/commands.md is checked against the commands and their flags
// (TestDocsAgreeWithHelp).
//
//go:embed commands.yaml
var commandsYAML []byte

// helpText is one command's help; Usage is the line under its name in
// netlab --help.
type helpText struct{ Usage, Args, Description string }

// parseHelp reads commands.yaml, with the paths it names put in, and the
// order of its commands. At every start: yaml.v3, a tenth of goccy's time.
func parseHelp(data []byte) (map[string]helpText, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, nil, fmt.Errorf("commands.yaml: not a map of commands: %v", err)
	}
	paths := strings.NewReplacer("{trust.DefaultStore}", trust.DefaultStore, "{lab.InitDir}", lab.InitDir, "{lab.RecordDir}", lab.RecordDir)
	help, m, order := map[string]helpText{}, doc.Content[0].Content, []string(nil)
	for i := 0; i+1 < len(m); i += 2 {
		var f map[string]string
		if err := m[i+1].Decode(&f); err != nil {
			return nil, nil, fmt.Errorf("commands.yaml:%d: %s: %w", m[i].Line, m[i].Value, err)
		}
		for k := range f {
			if !slices.Contains([]string{"usage", "args", "description"}, k) {
				return nil, nil, fmt.Errorf("commands.yaml:%d: %s: unknown key %q (usage, args, description)", m[i].Line, m[i].Value, k)
			}
		}
		help[m[i].Value] = helpText{Usage: f["usage"], Args: f["args"], Description: paths.Replace(f["description"])}
		order = append(order, m[i].Value)
	}
	return help, order, nil
}

// describe gives the app and its commands their help from commands.yaml,
// and lists the commands in its order.
func describe(app *cli.App) {
	help, order, err := parseHelp(commandsYAML)
	if err != nil {
		panic(err) // commands.yaml is part of the binary: TestHelpCoversEveryCommand
	}
	app.Usage, app.Description = help["netlab"].Usage, help["netlab"].Description
	var walk func(prefix string, cs []*cli.Command)
	walk = func(prefix string, cs []*cli.Command) {
		for _, c := range cs {
			if h, ok := help[prefix+c.Name]; ok { // else TestHelpCoversEveryCommand fails
				c.Usage, c.ArgsUsage, c.Description = h.Usage, h.Args, h.Description
			}
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
	slices.SortStableFunc(app.Commands, func(a, b *cli.Command) int {
		return slices.Index(order, a.Name) - slices.Index(order, b.Name)
	})
}
