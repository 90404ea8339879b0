package nodeinit

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Signal stops a node from inside it (netlab-init _signal TERM|KILL), run
// in the node's namespaces where nothing outside sees its processes (a
// pod whose agent is its own): TERM is sent to netlab's init, PID 1 here,
// which passes it on to the node's command; KILL, which PID 1 does not
// take from inside its namespace, to every other process of the node
// (kill -1), so that the command ends and init with it.
func Signal(args []string, stderr io.Writer) int {
	var err error
	switch {
	case len(args) == 1 && args[0] == "TERM":
		err = syscall.Kill(1, syscall.SIGTERM)
	case len(args) == 1 && args[0] == "KILL":
		err = syscall.Kill(-1, syscall.SIGKILL)
	default:
		fmt.Fprintln(stderr, "usage: netlab-init _signal TERM|KILL")
		return 2
	}
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(stderr, "netlab-init: signal the node: %v\n", err)
		return 1
	}
	return 0
}
