package nodeinit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/nodeexec"
)

// forwarded are the signals the init passes on to the node's command, as
// tini and dumb-init do: what docker stop, runc kill, a terminal or a
// person's kill sends to the node. Signals the kernel raises for a fault
// of the init itself (SIGSEGV, ...) and SIGCHLD are not among them.
var forwarded = []os.Signal{
	unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM,
}

// supervise runs the node's command (path, argv) as the init's child and
// stays its parent until it ends: it passes on every signal that arrives
// on sigs, reaps every process that ends under it (the orphans the kernel
// hands to a namespace's PID 1, or to a child subreaper, whose zombies
// nobody else would wait for) and returns the command's exit status:
// its code, or 128 plus the signal that killed it, as a shell says.
//
// The host's commands (execs, see package nodeexec) are the init's
// children too: their statuses go to execs.
func supervise(path string, argv []string, sigs <-chan os.Signal, stderr io.Writer, execs *nodeexec.Server) int {
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: run %s: %v\n", strings.Join(argv, " "), err)
		if errors.Is(err, os.ErrNotExist) {
			return exitNotFound
		}
		return exitNoExec
	}
	pid := proc.Pid
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		for {
			select {
			case s := <-sigs:
				// ESRCH once the command ended: its status is on its way.
				unix.Kill(pid, s.(syscall.Signal))
			case <-ended:
				return
			}
		}
	}()
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			// ECHILD: the command is gone without its status (someone
			// else waited for it); nothing is left to supervise.
			fmt.Fprintf(stderr, "netlab init: wait for %s: %v\n", strings.Join(argv, " "), err)
			return exitFailure
		}
		if got == pid {
			return nodeexec.ExitStatus(ws)
		}
		// Another process: one of the host's commands, an orphan, or the
		// DHCP client. Reaped.
		execs.Reaped(got, ws)
	}
}
