package checks

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNS runs fn in the network namespace ns, on an OS thread of its own
// that is thrown away afterwards: the goroutine locks its thread and never
// unlocks it, so Go ends the thread with the goroutine and no other
// goroutine ever runs in the node's namespace. A socket stays in the
// namespace it was made in, so fn makes the sockets and returns them;
// using them afterwards from any goroutine is fine.
//
// fn must not start goroutines that make sockets: they would run on other
// threads, in the host's namespace.
func inNS[T any](ns netns.NsHandle, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := netns.Set(ns); err != nil {
			done <- result{err: fmt.Errorf("enter the node's network namespace: %w", err)}
			return
		}
		v, err := fn()
		done <- result{v, err}
	}()
	r := <-done
	return r.v, r.err
}
