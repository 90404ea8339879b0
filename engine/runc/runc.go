// Package runc is the runc runtime: it runs a lab's nodes with the OCI
// runtime directly, each node a bundle in the lab's run directory, with
// no engine in between.
package runc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/rootfs"
)

// A node is a bundle in the lab's state directory, on disk,
//
//	StateDir/LAB/NODE/config.json   the OCI configuration (netlab's labels as annotations)
//	                 /rootfs        an overlayfs: the image's unpacked root (rootfs package) under upper/
//	                 /upper, /work  the node's own writable layer, kept across restarts and reboots
//	                 /hosts, /hostname, /resolv.conf   bound over the node's /etc files
//	                 /stdout.log, /stderr.log   the output and errors of the node's command
//
// and a runc container named like a Docker node (LAB_NODE), in runc's own
// state directory (Root, in /run: gone with a reboot, as the node's
// process is), so that Docker's containers are never touched. After a
// reboot a node is a bundle without runc's state: stopped, as a Docker
// container is, and up starts it again on its own layer.

// Root is runc's state directory for netlab's nodes.
var Root = filepath.Join(engine.RunDir, ".runc")

// Annotations of a runc node besides netlab's labels: the image it was
// made from, and the unpacked root its overlay has as lower layer.
const (
	annotationImage = "netlab.image"
	annotationLower = "netlab.lower"
)

// Runc runs nodes with the runc binary.
type Runc struct {
	bin    string
	root   string
	images *rootfs.Cache

	sealOnce sync.Once
	sealed   *os.File // runc's sealed copy, which run and exec start from (see starter)

	mu      sync.Mutex
	loaded  map[string]*rootfs.Image // image reference -> unpacked image, for this process
	pending map[string]string        // container made, not started yet -> the cache entry it holds

	annotations annotations // of the nodes' config.json files, for List
}

var _ engine.LocalRuntime = (*Runc)(nil)

// New finds the runc binary.
func New() (*Runc, error) {
	bin, err := exec.LookPath("runc")
	if err != nil {
		return nil, errors.New("the runc runtime needs the runc command, which is not installed: apt-get install runc (scripts/setup.sh does)")
	}
	return &Runc{bin: bin, root: Root, images: rootfs.NewCache(rootfs.DefaultDir), loaded: map[string]*rootfs.Image{}, pending: map[string]string{}}, nil
}

// Close releases the image cache's client.
func (r *Runc) Close() error {
	if r.sealed != nil {
		r.sealed.Close()
	}
	return r.images.Close()
}

// bundle is the directory of a node's bundle.
func bundle(lab, node string) string { return engine.NodeStateDir(lab, node) }

// legacyBundle is where a node's bundle was before bundles moved to disk,
// in the lab's run directory: a lab brought up by such a netlab is still
// found there, so that its down removes it.
func legacyBundle(lab, node string) string { return filepath.Join(engine.RunDir, lab, ".runc", node) }

// bundleOf is the bundle of a container id (LAB_NODE: neither name has '_').
func bundleOf(id string) (string, bool) {
	lab, node, ok := strings.Cut(id, "_")
	if !ok || lab == "" || node == "" || strings.ContainsAny(id, "/.") {
		return "", false
	}
	if old := legacyBundle(lab, node); !exists(bundle(lab, node)) && exists(old) {
		return old, true
	}
	return bundle(lab, node), true
}

// Has tells whether the container is one of the runc runtime's nodes.
func (r *Runc) Has(id string) bool {
	dir, ok := bundleOf(id)
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil
}

// HasLab tells whether the lab has nodes of the runc runtime: its state
// directory holds their bundles (a Docker lab's holds its nodes' /etc
// files only, and no config.json). The first bundle found tells: a
// page's state read asks it twice a second.
func (r *Runc) HasLab(lab string) bool {
	if naming.CheckName("lab", lab) != nil {
		return false
	}
	dir := filepath.Join(engine.StateDir, lab)
	nodes, _ := os.ReadDir(dir)
	for _, n := range nodes {
		if exists(filepath.Join(dir, n.Name(), "config.json")) {
			return true
		}
	}
	return exists(filepath.Dir(legacyBundle(lab, "x")))
}

// runc runs the runc command with the runtime's state directory. It is
// not cancelled with ctx: a runc killed half-way leaves a container that
// it neither made nor removed whole.
func (r *Runc) runc(args ...string) ([]byte, error) {
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("runc %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// image returns the unpacked image, once per process and reference
// (again when a down removed it from the cache since).
func (r *Runc) image(ctx context.Context, ref string) (*rootfs.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if img := r.loaded[ref]; img != nil && exists(img.Dir) {
		return img, nil
	}
	img, err := r.images.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, engine.BuildHint(ref))
	}
	r.loaded[ref] = img
	return img, nil
}

// holdImage gets the node's image and keeps its cache entry from any
// down until the node has started on it (release): until then no overlay
// mount uses it.
func (r *Runc) holdImage(ctx context.Context, id, ref string) (*rootfs.Image, error) {
	for range 3 {
		img, err := r.image(ctx, ref)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(img.Dir, r.images.Dir()+"/") { // rootfs:PATH, used in place
			return img, nil
		}
		err = r.images.Hold(ctx, img.RootfsID)
		if errors.Is(err, rootfs.ErrGone) {
			continue // removed since this process got it: get it again
		}
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if old, ok := r.pending[id]; ok {
			r.images.Unhold(old)
		}
		r.pending[id] = img.RootfsID
		r.mu.Unlock()
		return img, nil
	}
	return nil, fmt.Errorf("image %s: removed from the cache as often as it was unpacked: is a down of another lab pruning it?", ref)
}

// releaseImage lets the node's image entry go: its overlay mount keeps it
// now, or the node will not be made.
func (r *Runc) releaseImage(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rootfsID, ok := r.pending[id]; ok {
		r.images.Unhold(rootfsID)
		delete(r.pending, id)
	}
}

// HasImage tells whether the image is a directory here (oci:PATH,
// rootfs:PATH) or is in the cache or Docker's store (rootfs asks).
func (r *Runc) HasImage(ctx context.Context, image string) (bool, error) {
	for _, prefix := range []string{rootfs.PrefixOCI, rootfs.PrefixRootfs} {
		if p, ok := strings.CutPrefix(image, prefix); ok {
			if prefix == rootfs.PrefixOCI {
				p, _, _ = strings.Cut(p, ":")
			}
			_, err := os.Stat(p)
			return err == nil, nil
		}
	}
	_, err := r.image(ctx, image)
	return err == nil, nil
}
