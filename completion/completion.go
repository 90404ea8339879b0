// Package completion is netlab's shell completion: the scripts that make
// bash, zsh and fish ask netlab itself for candidates (urfave/cli's
// --generate-bash-completion), and the candidates where a command takes a
// running lab, one of its nodes, or one of their interfaces as NODE:IF.
package completion

import (
	"context"

	"github.com/netlab/netlab/lab"
)

const bash = `# netlab completion for bash: source <(netlab completion bash)
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

const zsh = `# netlab completion for zsh: source <(netlab completion zsh)
autoload -U +X bashcompinit && bashcompinit
` + bash

const fish = `# netlab completion for fish: netlab completion fish | source
complete -c netlab -f -a '(netlab (commandline -opc)[2..-1] --generate-bash-completion 2>/dev/null)'
`

// Script is the completion script of a shell: bash, zsh or fish.
func Script(shell string) (string, bool) {
	s, ok := map[string]string{"bash": bash, "zsh": zsh, "fish": fish}[shell]
	return s, ok
}

// LabNode gives the candidates for a command that takes a lab and then a
// node, given the arguments typed so far: the running labs' names, then
// the lab's nodes (NODE:IF for each of their interfaces, withIfaces),
// then nothing. A lab that cannot be read has no candidates.
func LabNode(ctx context.Context, m *lab.Manager, args []string, withIfaces bool) []string {
	switch len(args) {
	case 0:
		labs, _ := m.Labs(ctx)
		return labs
	case 1:
		st, err := m.Status(ctx, args[0])
		if err != nil {
			return nil
		}
		var out []string
		for _, s := range st.Nodes {
			if !withIfaces {
				out = append(out, s.Node)
				continue
			}
			for _, i := range s.Interfaces {
				out = append(out, s.Node+":"+i.Name)
			}
		}
		return out
	}
	return nil
}
