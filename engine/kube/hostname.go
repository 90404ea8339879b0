package kube

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// hostnameAnnotation records a node's full host name on its pod when the
// API cannot take it as the pod's host name (a name with dots, or capitals):
// Start sets it in the pod's UTS namespace, so that `hostname` in the node
// prints www.example.com as it does on the other runtimes.
const hostnameAnnotation = "netlab.hostname"

// setHostname sets the host name of the UTS namespace of process pid.
func setHostname(pid int, name string) error {
	errc := make(chan error, 1)
	go func() {
		// The thread enters the pod's UTS namespace and stays locked: Go
		// ends it with this goroutine, so nothing else ever runs there.
		runtime.LockOSThread()
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/uts", pid))
		if err != nil {
			errc <- fmt.Errorf("set host name %s: %w", name, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWUTS); err != nil {
			errc <- fmt.Errorf("set host name %s: enter the UTS namespace of pid %d: %w", name, pid, err)
			return
		}
		if err := unix.Sethostname([]byte(name)); err != nil {
			errc <- fmt.Errorf("set host name %s in the UTS namespace of pid %d: %w", name, pid, err)
			return
		}
		errc <- nil
	}()
	return <-errc
}
