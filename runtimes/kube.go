//go:build !nokube

package runtimes

import (
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/docker"
	"github.com/netlab/netlab/engine/kube"
)

// clusterOpener reaches a Kubernetes cluster by its kubeconfig.
func clusterOpener(d *docker.Docker, dockerErr error) engine.ClusterOpener {
	return func(kc string) (engine.ClusterRuntime, error) {
		k, err := kube.New(kc)
		if err != nil {
			return nil, err
		}
		if dockerErr == nil {
			// The cluster's hosts get their images from this machine's
			// engine (scripts/k8s-cluster.sh load-docker), whose copy
			// tells a node's command.
			k.Image = d.ImageConfig
		}
		return k, nil
	}
}

// KubernetesBuiltIn is nil: this netlab has the Kubernetes runtime.
func KubernetesBuiltIn() error { return nil }
