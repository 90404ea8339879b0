package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/rootfs"
)

// PruneOptions are the choices of a prune.
type PruneOptions struct {
	DryRun   bool // say what would go, remove nothing
	Progress Progress
}

// Pruned is a directory a prune removed (or would remove).
type Pruned struct {
	Kind  string `json:"kind"` // "lab state", "image root" or "init copy"
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
// state directories (runc nodes' bundles and own layers) of labs that are
// neither up (no run directory: a reboot took it) nor recorded for
// restore, the root filesystems unpacked for runc nodes (the rootfs cache) that no
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
	if list, err = m.pruneLabStates(ctx, list, res, opts.Progress); err != nil {
		return res, err
	}
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

// pruneLabStates removes the state directories of labs that have no run
// directory and no record for restore: runc nodes that a reboot stopped
// and nothing will restore. Each is removed as its down would, with the
// lab's lock held. It returns list without the nodes it removed.
func (m *Manager) pruneLabStates(ctx context.Context, list []engine.Container, res *PruneResult, progress Progress) ([]engine.Container, error) {
	gone := map[string]bool{}
	for _, lab := range engine.StateLabs() {
		if naming.CheckName("lab", lab) != nil || !m.stale(lab) {
			continue
		}
		dir := filepath.Join(engine.StateDir, lab)
		bytes := rootfs.DiskUsage(dir)
		if !res.DryRun {
			if err := m.removeStale(ctx, lab, list, progress); err != nil {
				return list, err
			}
		}
		res.add("lab state", dir, bytes)
		gone[lab] = true
	}
	return slices.DeleteFunc(list, func(c engine.Container) bool { return gone[c.Labels[naming.LabelLab]] }), nil
}

// stale tells whether the lab is neither up (a run directory) nor
// recorded for restore.
func (m *Manager) stale(lab string) bool {
	if _, err := os.Stat(filepath.Join(engine.RunDir, lab)); err == nil {
		return false
	}
	_, err := readRecord(lab)
	return errors.Is(err, os.ErrNotExist)
}

// removeStale removes a stale lab's runc nodes and state directory, with
// its lock held; one that came up or was recorded meanwhile is kept.
func (m *Manager) removeStale(ctx context.Context, lab string, list []engine.Container, progress Progress) error {
	unlock, err := m.lock(lab, "prune", progress)
	if err != nil {
		return err
	}
	defer unlock()
	if !m.stale(lab) {
		return nil
	}
	for _, c := range list {
		if c.Labels[naming.LabelLab] == lab && c.Runtime == engine.RuntimeRunc {
			if err := m.host.Remove(ctx, c.ID); err != nil {
				return fmt.Errorf("prune lab %s: %w", lab, err)
			}
		}
	}
	if err := engine.RemoveStateDir(lab); err != nil {
		return fmt.Errorf("prune lab %s: %w", lab, err)
	}
	return nil
}
