//go:build nokube

// Package agent is netlab's agent on a host of a Kubernetes cluster,
// which a netlab built without Kubernetes (-tags nokube) does not have.
package agent

import (
	"context"
	"fmt"
	"io"

	"github.com/netlab/netlab/runtimes"
)

// Main says that this netlab has no cluster agent, and how to build one.
func Main(_ context.Context, _ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintf(stderr, "netlab: %v\n", runtimes.KubernetesBuiltIn())
	return 1
}
