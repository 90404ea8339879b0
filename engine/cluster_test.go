package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fakeCluster is a cluster whose List gives one node per lab asked.
type fakeCluster struct {
	Runtime
	kubeconfig string
	listed     *[]string
}

func (c fakeCluster) List(_ context.Context, lab string) ([]Container, error) {
	*c.listed = append(*c.listed, lab)
	return []Container{{ID: lab + "_n", Node: "n", Labels: map[string]string{}}}, nil
}
func (c fakeCluster) RemoveLab(context.Context, string) error { return nil }
func (c fakeCluster) Kubeconfig() string                      { return c.kubeconfig }

// A lab named is listed from its own cluster mark alone; "" lists every
// cluster lab's nodes.
func TestClusterListNamedLab(t *testing.T) {
	dir := t.TempDir()
	withRunDir(t, dir)
	for _, l := range []string{"ka", "kb"} {
		os.MkdirAll(filepath.Join(dir, l), 0o755)
		os.WriteFile(filepath.Join(dir, l, ClusterFile), []byte("/k/"+l+"\n"), 0o600)
	}
	os.MkdirAll(filepath.Join(dir, "local"), 0o755) // a lab of this host
	var opened, listed []string
	h := &Host{}
	h.SetCluster(func(kc string) (ClusterRuntime, error) {
		opened = append(opened, kc)
		return fakeCluster{kubeconfig: kc, listed: &listed}, nil
	}, "")
	ctx := context.Background()
	if out, err := h.clusterList(ctx, "local"); err != nil || len(out) != 0 || len(opened) != 0 {
		t.Fatalf("a host lab: %v, %v, clusters opened %v", out, err, opened)
	}
	if out, err := h.clusterList(ctx, "kb"); err != nil || len(out) != 1 || out[0].ID != "kb_n" || !slices.Equal(opened, []string{"/k/kb"}) {
		t.Fatalf("lab kb: %v, %v, clusters opened %v", out, err, opened)
	}
	listed = nil
	out, err := h.clusterList(ctx, "")
	if err != nil || len(out) != 2 || !slices.Equal(listed, []string{"ka", "kb"}) {
		t.Fatalf("every lab: %v, %v, listed %v", out, err, listed)
	}
}
