//go:build nokube

package runtimes

import (
	"errors"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/docker"
)

// Built with -tags nokube (make fopnp: the playground's netlab, built in
// a fraction of the time without Kubernetes' client), netlab reaches no
// cluster and says how to get one that does.
func clusterOpener(*docker.Docker, error) engine.ClusterOpener {
	return func(string) (engine.ClusterRuntime, error) { return nil, errNoKube }
}

var errNoKube = errors.New("this netlab was built without the Kubernetes runtime (make fopnp builds the playground's netlab so, in a third of the time): run make build for the whole netlab")

// KubernetesBuiltIn says this netlab has no Kubernetes runtime, and how to
// build one that has.
func KubernetesBuiltIn() error { return errNoKube }
