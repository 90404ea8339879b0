//go:build nokube

package runtimes

import (
	"strings"
	"testing"
)

// Built without the Kubernetes runtime, netlab says so wherever a cluster
// is asked for, and how to build the whole netlab.
func TestNoKubernetes(t *testing.T) {
	err := KubernetesBuiltIn()
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("KubernetesBuiltIn: %v", err)
	}
	if _, err := clusterOpener(nil, nil)("/nonexistent/kubeconfig"); err == nil || !strings.Contains(err.Error(), "without the Kubernetes runtime") {
		t.Fatalf("opening a cluster: %v", err)
	}
}
