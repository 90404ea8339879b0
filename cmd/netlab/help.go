package main

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/urfave/cli/v2"

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

// helpText is one command's help.
type helpText struct {
	Usage       string `yaml:"usage"` // the line under its name in netlab --help
	Args        string `yaml:"args"`
	Description string `yaml:"description"`
}

// parseHelp reads commands.yaml, with the paths it names put in, and the
// order of its commands.
func parseHelp(data []byte) (map[string]helpText, []string, error) {
	var help map[string]helpText
	if err := yaml.UnmarshalWithOptions(data, &help, yaml.Strict()); err != nil {
		return nil, nil, fmt.Errorf("commands.yaml: %w", err)
	}
	var keys yaml.MapSlice
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return nil, nil, fmt.Errorf("commands.yaml: %w", err)
	}
	var order []string
	for _, k := range keys {
		order = append(order, fmt.Sprint(k.Key))
	}
	paths := strings.NewReplacer("{trust.DefaultStore}", trust.DefaultStore, "{lab.InitDir}", lab.InitDir, "{lab.RecordDir}", lab.RecordDir)
	for path, h := range help {
		h.Description = paths.Replace(h.Description)
		help[path] = h
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
