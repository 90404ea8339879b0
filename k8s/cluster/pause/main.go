// Command pause is the test cluster's pod sandbox image: the first process of
// every pod, which holds the pod's namespaces and does nothing else. It reaps
// the orphans the pod's processes leave and exits on SIGTERM or SIGINT, like
// Kubernetes' own pause, which no registry here can serve.
// scripts/k8s-cluster.sh builds it static and imports it into each
// simulated host's containerd.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
