// Package startheap spares a netlab command the garbage collection that
// its start would cost: a heap of 16 MB before the first collection, then
// Go's usual pace.
//
// The packages netlab links (the Kubernetes client, the JSON Schema
// validator, the Docker client) allocate 5.6 MB in their init functions,
// past the 4 MB at which Go collects first; that collection scans the
// binary's 5 MB of globals and cost a short command (netlab exec, status,
// a check) about a fifth of its CPU. The compiler does the same for the
// same reason (cmd/compile's starting heap). Imported first by
// cmd/netlab, for its init to run before the heavy ones; a GOGC in the
// environment is left to rule.
package startheap

import (
	"os"
	"runtime"
	"runtime/debug"
)

// startPercent is the GOGC whose minimum heap is 16 MB (4 MB at 100).
const startPercent = 400

func init() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	prev := debug.SetGCPercent(startPercent)
	// Unreachable at once: its finalizer runs after the first
	// collection, and puts the usual pace back.
	sentinel := &struct{ _ *int }{}
	runtime.SetFinalizer(sentinel, func(*struct{ _ *int }) { debug.SetGCPercent(prev) })
}
