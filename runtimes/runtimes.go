// Package runtimes opens this host's container runtimes (the Docker
// engine, runc, and Kubernetes clusters through a lab's kubeconfig) as one
// engine.Host: the one place that knows every runtime package.
package runtimes

import (
	"context"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/docker"
	"github.com/netlab/netlab/engine/runc"
)

// Open reaches this host's labs through its runtimes, the Docker engine
// and runc, either of which may be missing: only what needs it fails then.
// It fails only if neither can be used. Labs on a Kubernetes cluster are
// reached through the kubeconfig each one recorded; kubeconfig is the one
// a new lab's up uses ("": KUBECONFIG, then ~/.kube/config).
func Open(ctx context.Context, kubeconfig string) (*engine.Host, error) {
	d, dockerErr := docker.New(ctx)
	r, runcErr := runc.New()
	h, err := engine.NewHost(d, dockerErr, r, runcErr)
	if err != nil {
		return nil, err
	}
	h.SetCluster(clusterOpener(d, dockerErr), kubeconfig)
	return h, nil
}
