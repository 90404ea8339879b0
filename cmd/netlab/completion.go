package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
)

// Shell completion: the shells ask netlab itself (urfave/cli's
// --generate-bash-completion) for commands, and for the names of running
// labs and their nodes where a command takes them.

const bashCompletion = `# netlab completion for bash: source <(netlab completion bash)
_netlab() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local opts
  opts=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$((COMP_CWORD-1))}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  [ ${#COMPREPLY[@]} -eq 0 ] && compopt -o default 2>/dev/null
  return 0
}
complete -F _netlab netlab
`

const zshCompletion = `# netlab completion for zsh: source <(netlab completion zsh)
autoload -U +X bashcompinit && bashcompinit
` + bashCompletion

const fishCompletion = `# netlab completion for fish: netlab completion fish | source
complete -c netlab -f -a '(netlab (commandline -opc)[2..-1] --generate-bash-completion 2>/dev/null)'
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name: "completion",
		Action: func(c *cli.Context) error {
			script := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[c.Args().First()]
			if c.NArg() != 1 || script == "" {
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
		switch c.NArg() {
		case 0:
			labs, _ := m.Labs(ctx)
			for _, l := range labs {
				fmt.Fprintln(c.App.Writer, l)
			}
		case 1:
			st, err := m.Status(ctx, c.Args().First())
			if err != nil {
				return
			}
			for _, s := range st.Nodes {
				if !withIfaces {
					fmt.Fprintln(c.App.Writer, s.Node)
					continue
				}
				for _, i := range s.Interfaces {
					fmt.Fprintln(c.App.Writer, s.Node+":"+i.Name)
				}
			}
		}
	}
}
