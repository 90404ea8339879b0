// Package lab is netlab's lifecycle API: it loads a lab, brings it up (and
// repairs and converges it), checks, resets, captures, faults and removes
// it. The command line, a lab's watcher and the class server call it
// in-process; nothing re-executes netlab to act on a lab.
//
// It prints nothing, parses no flags and never exits the process. Long
// operations report progress as Events through a callback, and every call
// honours its context. The calls that change a lab take the lab's lock, a
// file lock that excludes other goroutines and other processes alike, so
// a Manager is safe to use from many goroutines at once.
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/faults"
	"github.com/netlab/netlab/runtimes"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// ErrUsage marks errors that come from what the caller asked (a lab, node
// or stage that does not exist, a flag that does not fit): the command
// line exits 2 for them, a server answers 400 or 404. spec.ErrInvalid
// marks an invalid lab file the same way.
var ErrUsage = errors.New("usage")

// usageError is an error the caller asked for, as its message says.
type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Unwrap() error        { return e.err }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Usage marks err as an error of the request (ErrUsage), for front ends
// that check requests of their own (the class server's rosters).
func Usage(err error) error { return usageError{err} }

// Usagef is Usage of a formatted error.
func Usagef(format string, args ...any) error { return usagef(format, args...) }

// IsUsage tells whether err comes from the request rather than from the
// host: ErrUsage, an invalid lab file, or a bad capture target or filter.
func IsUsage(err error) bool {
	return errors.Is(err, ErrUsage) || errors.Is(err, spec.ErrInvalid) ||
		errors.Is(err, capture.ErrUsage) || errors.Is(err, capture.ErrFilter)
}

// fromFaults turns the faults package's usage errors into this package's.
func fromFaults(err error) error {
	if errors.Is(err, faults.ErrUsage) {
		return usageError{errors.New(strings.TrimPrefix(err.Error(), faults.ErrUsage.Error()+": "))}
	}
	return err
}

// Manager acts on the labs of this host. Open one per process (or per
// server) and share it; Close it at the end.
type Manager struct {
	host *engine.Host
	// self is this netlab binary: a lab's helper processes run it, and so
	// do nodes that have no netlab-init beside it.
	self string
}

// Options are how a Manager reaches the host.
type Options struct {
	// Binary is the netlab binary that a lab's helper processes (port
	// forwarders, relays, the watcher) run, and nodes without a
	// netlab-init beside it run as their init: a static build. "": this
	// process's own executable, which is right for the netlab command.
	Binary string
	// Kubeconfig is the Kubernetes cluster a lab brought up on the
	// kubernetes runtime runs on ("": KUBECONFIG, then ~/.kube/config).
	// A lab's later commands reach the cluster it came up on.
	Kubeconfig string
}

// Open connects to the host's runtimes (the Docker engine when it runs;
// runc labs need none).
func Open(ctx context.Context, opts Options) (*Manager, error) {
	self := opts.Binary
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the netlab binary: %w", err)
		}
	}
	h, err := runtimes.Open(ctx, opts.Kubeconfig)
	if err != nil {
		return nil, err
	}
	return &Manager{host: h, self: self}, nil
}

// Close releases the connection to the engine.
func (m *Manager) Close() error { return m.host.Close() }

// rootFor says why each operation that needs root needs it.
var rootFor = map[string]string{
	"up":      "it changes the host's interfaces, namespaces and firewall",
	"down":    "it changes the host's interfaces, namespaces and firewall",
	"reset":   "it changes the nodes' routes and addresses",
	"check":   "it probes from inside the nodes' network namespaces",
	"capture": "it opens packet sockets in the lab's network namespaces",
	"status":  "it reads the nodes' namespaces and the host's interfaces",
	"trust":   "it writes the host's trust store, " + trust.DefaultStore,
}

// NeedRoot says in one line that the operation verb (up, down, reset,
// check, capture, status) needs root, and why, unless the process runs as
// root or the operation does not need it.
func NeedRoot(verb string) error {
	if why, ok := rootFor[verb]; ok && os.Geteuid() != 0 {
		return fmt.Errorf("netlab %s needs root: %s; run it with sudo", verb, why)
	}
	return nil
}

// The runtimes a lab's nodes can run on, as the lab file's runtime key
// and netlab up --runtime name them.
const (
	RuntimeDocker = engine.RuntimeDocker
	RuntimeRunc   = engine.RuntimeRunc
	// RuntimeKubernetes runs a lab's nodes as pods of a cluster
	// (docs/kubernetes.md).
	RuntimeKubernetes = engine.RuntimeKubernetes
)

// IsRuntime tells whether name is a runtime's.
func IsRuntime(name string) bool {
	return name == RuntimeDocker || name == RuntimeRunc || name == RuntimeKubernetes
}

// HasImage tells whether the Docker engine has image (built or pulled).
func (m *Manager) HasImage(ctx context.Context, image string) (bool, error) {
	return m.host.HasImage(ctx, image)
}
