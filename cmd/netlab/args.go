package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed lets flags follow arguments ("netlab graph lab.yaml -o x.svg"),
// which urfave/cli v2 does not: it moves a command's flags, with their
// values, ahead of its arguments. Everything after "--" stays as it is.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args // a shell asking for completions: the flag must stay last
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	if len(args) > 2 && cmd.Command(args[2]) != nil { // a subcommand: netlab new internet
		sub := interspersed(&cli.App{Commands: cmd.Subcommands}, args[1:])
		return append([]string{args[0]}, sub...)
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, rest []string
	tail := args[2:]
	for i := 0; i < len(tail); i++ {
		a := tail[i]
		if a == "--" {
			rest = append(rest, tail[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(tail) {
			flags = append(flags, tail[i+1])
			i++
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	return append(out, rest...)
}
