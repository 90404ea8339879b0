package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

// commandPaths gives every command of the app by its words after netlab,
// with the command.
func commandPaths() map[string]*cli.Command {
	out := map[string]*cli.Command{}
	var walk func(prefix string, cs []*cli.Command)
	walk = func(prefix string, cs []*cli.Command) {
		for _, c := range cs {
			out[prefix+c.Name] = c
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", newApp(io.Discard, io.Discard).Commands)
	return out
}

func TestHelpCoversEveryCommand(t *testing.T) {
	help, _, err := parseHelp(commandsYAML)
	if err != nil {
		t.Fatal(err)
	}
	paths := commandPaths()
	for p := range paths {
		if help[p].Usage == "" {
			t.Errorf("commands.yaml has no usage: line for netlab %s: its help goes there", p)
		}
	}
	for p := range help {
		if _, ok := paths[p]; !ok && p != "netlab" {
			t.Errorf("commands.yaml describes netlab %s, which is no command", p)
		}
	}
	for p, h := range help {
		if strings.ContainsAny(h.Description, "{}") {
			t.Errorf("commands.yaml: netlab %s: a {placeholder} was not replaced: %s", p, h.Description)
		}
	}
}

func TestParseHelp(t *testing.T) {
	if _, _, err := parseHelp([]byte("up:\n  usage: bring it up\n  sage: typo\n")); err == nil {
		t.Error("a misspelt key was taken")
	}
	h, order, err := parseHelp([]byte("up:\n  args: FILE\n  usage: bring it up\n  description: |-\n    In {lab.RecordDir}.\n\n    Then more.\ndown:\n  usage: remove it\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := helpText{Usage: "bring it up", Args: "FILE", Description: "In " + lab.RecordDir + ".\n\nThen more."}
	if h["up"] != want || h["down"] != (helpText{Usage: "remove it"}) || !slices.Equal(order, []string{"up", "down"}) {
		t.Errorf("parsed %+v in order %q", h, order)
	}
}

// TestDocsAgreeWithHelp holds docs/commands.md to the commands: every
// command that does something has a row there, and the row names each of
// its flags.
func TestDocsAgreeWithHelp(t *testing.T) {
	data, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	paths := commandPaths()
	rows := map[string]string{} // netlab PATH: the synopsis, the row's first cell
	cell := regexp.MustCompile("(?m)^\\| `netlab ([^`]*)`")
	for _, m := range cell.FindAllStringSubmatch(string(data), -1) {
		var names []string // stop|start|restart: three
		for i, w := range strings.Fields(strings.ReplaceAll(m[1], "\\|", "|")) {
			var longer []string
			for _, alt := range strings.Split(w, "|") {
				if i == 0 {
					longer = append(longer, alt)
				} else if len(names) == 1 {
					longer = append(longer, names[0]+" "+alt)
				}
			}
			if len(longer) == 0 || slices.ContainsFunc(longer, func(p string) bool { return paths[p] == nil }) {
				break
			}
			names = longer
		}
		for _, name := range names {
			rows[name] = m[1]
		}
	}
	for path, c := range paths {
		if c.Action == nil {
			continue // only subcommands: serve user
		}
		row, ok := rows[path]
		if !ok {
			t.Errorf("docs/commands.md has no row for netlab %s", path)
			continue
		}
		for _, f := range c.Flags {
			if !flagNamed(row, f.Names()) {
				t.Errorf("docs/commands.md: netlab %s does not name its flag --%s", path, f.Names()[0])
			}
		}
	}
}

// flagNamed tells whether row names the flag by one of its names.
func flagNamed(row string, names []string) bool {
	for _, n := range names {
		dash := "--"
		if len(n) == 1 {
			dash = "-"
		}
		if regexp.MustCompile(regexp.QuoteMeta(dash+n) + `\b`).MatchString(row) {
			return true
		}
	}
	return false
}
