// Package nodeexec runs a command in a running node through the node's
// own init (netlab-init, the node's PID 1), both ends of it: Listen and
// Serve in the init, Run on the host. The init starts the command as its
// child, so the command has the node's namespaces, cgroup, capabilities,
// user, environment and working directory, on pipes the host passes it
// over a socket, and the init tells its exit status when it reaps it.
//
// It is how netlab exec and the checks' probes reach a node on the Docker
// and runc runtimes: a docker exec costs the engine, containerd, a shim,
// runc and runc's init, about 0.14 CPU-s a command beyond netlab's own
// start on a 2-core machine; this costs a fork in the node. A node whose
// init does not listen (one an older netlab started) answers
// ErrUnavailable, and the caller uses its runtime's exec.
//
// The socket is an abstract Unix socket in the node's network namespace,
// which only a process that can enter that namespace reaches. The init
// takes a command only from a root process outside the node's PID
// namespace (the host's netlab: its peer credentials show uid 0 and no
// pid in the node's namespace), never from a process of the node itself;
// the host takes an answer only from the node's init (the server's pid is
// the init's).
package nodeexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// SocketName is the init's abstract socket, in the node's network
// namespace.
const SocketName = "@netlab/exec"

// maxRequest bounds a request (the command line), read in one packet.
const maxRequest = 64 << 10

// request is the host's one packet: the command, with the command's
// standard input, output and error passed as rights.
type request struct {
	Argv []string `json:"argv"`
}

// reply is the init's one packet: the command's exit status (its code, or
// 128 plus the signal that ended it), or why it could not run (Error, with
// the code a shell would give: 126, or 127 when it is not in the node).
type reply struct {
	Code  int    `json:"code"`
	Error string `json:"error,omitempty"`
}

// Exit codes of a command that could not run, as a shell's.
const (
	codeNoExec   = 126
	codeNotFound = 127
)

// ErrUnavailable says that the node's init takes no commands: it is not
// running, does not listen (an older netlab's, or the node is not wired
// yet), or something else answered; the runtime's exec is the way in.
var ErrUnavailable = errors.New("the node's init takes no commands")

// peer is the credentials of the socket's other end, as the kernel
// took them when it connected (or listened), in this process's PID
// namespace: pid 0 for a process outside it.
func peer(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil {
		return nil, cerr
	}
	return cred, err
}

// ExitStatus is a wait status as a shell gives it: the exit code, or 128
// plus the signal that ended the process.
func ExitStatus(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("a malformed message: %w", err)
	}
	return nil
}
