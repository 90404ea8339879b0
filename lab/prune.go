package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/rootfs"
)

// PruneOptions are the choices of a prune.
type PruneOptions struct {
	DryRun   bool // say what would go, remove nothing
	Progress Progress
}

// Pruned is a directory a prune removed (or would remove).
type Pruned struct {
	Kind  string `json:"kind"` // "image root" or "init copy"
	Dir   string `json:"dir"`
	Bytes int64  `json:"bytes"`
}

// PruneResult says what a prune removed and the disk space it freed.
type PruneResult struct {
	DryRun  bool     `json:"dry_run"`
	Removed []Pruned `json:"removed"`
	Freed   int64    `json:"freed"`
	// Skipped says what was not looked at, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// Prune removes what netlab keeps on disk for labs and no lab uses: the
// root filesystems unpacked for runc nodes (the rootfs cache) that no
// node of any lab was made on, and the copies of netlab in InitDir that
// no node runs. An up under way is never robbed: the images it has
// fetched are held (rootfs.Cache.Hold) until its nodes start on them, and
// it holds InitDir, so the copies wait for a prune when it is done.
func (m *Manager) Prune(ctx context.Context, opts PruneOptions) (*PruneResult, error) {
	if err := NeedRoot("prune"); err != nil {
		return nil, err
	}
	list, err := m.host.List(ctx, "")
	if err != nil {
		return nil, err
	}
	res := &PruneResult{DryRun: opts.DryRun, Removed: []Pruned{}}
	if err := pruneRoots(ctx, list, res); err != nil {
		return res, err
	}
	if _, err := m.host.Runtime(engine.RuntimeDocker); err != nil {
		res.Skipped = append(res.Skipped, fmt.Sprintf("copies of netlab in %s: the Docker engine cannot be reached, and its nodes may run them (%v)", engine.InitDir, err))
		return res, nil
	}
	inits, busy, err := engine.PruneUnusedInits(ctx, m.host, opts.DryRun)
	for _, c := range inits {
		res.add("init copy", c.Dir, c.Bytes)
	}
	if busy {
		res.Skipped = append(res.Skipped, fmt.Sprintf("copies of netlab in %s: an up is under way; run netlab prune again when it is done", engine.InitDir))
	}
	return res, err
}

func (r *PruneResult) add(kind, dir string, bytes int64) {
	r.Removed = append(r.Removed, Pruned{Kind: kind, Dir: dir, Bytes: bytes})
	r.Freed += bytes
}

// pruneRoots removes the cache entries no runc node in list was made on.
func pruneRoots(ctx context.Context, list []engine.Container, res *PruneResult) error {
	cache := rootfs.NewCache(rootfs.DefaultDir)
	defer cache.Close()
	var keep []string
	for _, c := range list {
		if c.ImageRoot != "" && filepath.Dir(c.ImageRoot) == cache.Dir() {
			keep = append(keep, "sha256:"+filepath.Base(c.ImageRoot))
		}
	}
	unused, err := cache.Unused(keep...)
	if err != nil {
		return err
	}
	if res.DryRun {
		for _, e := range unused {
			res.add("image root", e.Dir, e.Bytes)
		}
		return nil
	}
	removed, err := cache.Prune(ctx, keep...)
	for _, e := range unused {
		if slices.Contains(removed, e.ID) {
			res.add("image root", e.Dir, e.Bytes)
		}
	}
	return err
}
