package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// engineForTest opens the Docker engine, or skips without root and the
// netlab/tiny image; with NETLAB_E2E=1 (CI) it fails instead.
func engineForTest(t *testing.T) *Docker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	why := ""
	d, err := New(ctx)
	if os.Geteuid() != 0 {
		why = "not root"
	} else if err != nil {
		why = err.Error()
	} else if ok, err := d.HasImage(ctx, "netlab/tiny"); !ok {
		why = fmt.Sprintf("no netlab/tiny image (%v)", err)
	}
	if why != "" && os.Getenv("NETLAB_E2E") == "1" {
		t.Fatalf("the Docker engine's test cannot run: %s", why)
	}
	if why != "" {
		t.Skip(why)
	}
	return d
}

// TestCreateRemakesContainerOfKilledCreate: an up killed while the engine
// made a node's container leaves, once the engine finishes, a container
// with the node's labels that was never started, which the next up's
// list may not have shown. Create makes it again as planned; a name
// held by a container netlab did not make for the node stays refused.
func TestCreateRemakesContainerOfKilledCreate(t *testing.T) {
	d := engineForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab := fmt.Sprintf("dkcreate%d", os.Getpid()%100000)
	made := map[string]string{"a": lab + "_a", "b": lab + "_b", "c": lab + "_c"}
	t.Cleanup(func() {
		for _, name := range made {
			d.c.Remove(context.Background(), name)
		}
		os.RemoveAll(filepath.Join(engine.RunDir, lab))
		os.RemoveAll(filepath.Join(engine.StateDir, lab))
	})
	leave := func(node string, labels map[string]string, start bool) string {
		t.Helper()
		id, err := d.c.Create(ctx, made[node], &dockerapi.Config{Image: "netlab/tiny", Labels: labels,
			Cmd: []string{"sleep", "60"}, NetworkDisabled: true, HostConfig: dockerapi.HostConfig{NetworkMode: "none"}})
		if err != nil {
			t.Fatal(err)
		}
		if start {
			if err := d.c.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	planned := func(node string) *planner.Container {
		return &planner.Container{Name: made[node], Image: "netlab/tiny", Hostname: node,
			Labels: map[string]string{naming.LabelLab: lab, naming.LabelNode: node}}
	}
	ours := map[string]string{naming.LabelLab: lab, naming.LabelNode: "a"}
	left := leave("a", ours, false)
	id, err := d.Create(ctx, lab, planned("a"), nil, "/usr/local/lib/netlab/netlab-init")
	if err != nil {
		t.Fatalf("create over a never-started container of the node: %v", err)
	}
	info, err := d.c.Inspect(ctx, made["a"])
	if err != nil || id == left || info.ID != id || info.Config.Labels[naming.LabelConfig] == "" {
		t.Errorf("a's container after create: %s (left %s, made %s, config label %q, %v), want the one create made",
			info.ID, left, id, info.Config.Labels[naming.LabelConfig], err)
	}

	leave("b", nil, false)
	leave("c", map[string]string{naming.LabelLab: lab, naming.LabelNode: "c"}, true)
	for _, node := range []string{"b", "c"} {
		_, err := d.Create(ctx, lab, planned(node), nil, "/usr/local/lib/netlab/netlab-init")
		if err == nil || !strings.Contains(err.Error(), "taken by a container netlab did not make for this node") {
			t.Errorf("create of %s over another container (not netlab's, or started): %v, want the refusal", node, err)
		}
	}
}

// TestWaitRemoved: the engine's wait for a container's removal returns
// once another request removed it, and at once for one gone already.
func TestWaitRemoved(t *testing.T) {
	d := engineForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("dkwait%d", os.Getpid()%100000)
	t.Cleanup(func() { d.c.Remove(context.Background(), name) })
	if _, err := d.c.Create(ctx, name, &dockerapi.Config{Image: "netlab/tiny", Cmd: []string{"sleep", "60"},
		NetworkDisabled: true, HostConfig: dockerapi.HostConfig{NetworkMode: "none"}}); err != nil {
		t.Fatal(err)
	}
	removed := make(chan error, 1)
	go func() { removed <- d.c.Remove(ctx, name) }()
	if err := d.c.WaitRemoved(ctx, name); err != nil {
		t.Fatalf("wait for the removal: %v", err)
	}
	if err := <-removed; err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := d.c.Inspect(ctx, name); !dockerapi.IsNotFound(err) {
		t.Errorf("after the wait, inspect: %v, want not found", err)
	}
	if err := d.c.WaitRemoved(ctx, name); err != nil {
		t.Errorf("wait for a container gone already: %v, want none", err)
	}
}
