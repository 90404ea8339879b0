package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Create makes the node's bundle: its own layer with its files, its /etc
// files and config.json, whose first mount is its overlay root. The node
// starts with Start.
func (r *Runc) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (id string, err error) {
	img, err := r.holdImage(ctx, c.Name, c.Image)
	if err != nil {
		return "", err
	}
	defer func() {
		if id == "" { // not made: nothing will start on the image
			r.releaseImage(c.Name)
		}
	}()
	argv, imageCaps, err := engine.NodeArgv(c, img.Entrypoint, img.Cmd, img.Labels)
	if err != nil {
		return "", err
	}
	node := c.Labels[naming.LabelNode]
	dir := bundle(lab, node)
	run := filepath.Join(engine.RunDir, lab, node)
	for _, d := range []string{run, filepath.Join(dir, "rootfs"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	done := false
	defer func() {
		if !done { // created half: up makes it again
			removeBundle(dir)
		}
	}()
	user, err := writeRoot(img, dir, c.Files)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	if err := engine.WriteEtcFiles(dir, c, hosts); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(c.Hostname+"\n"), 0o644); err != nil {
		return "", err
	}
	cfg, err := runcConfig(c, img, user, argv, engine.CapAdd(c, imageCaps), dir, run, init)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", err
	}
	if err := writeConfigFile(dir, data); err != nil {
		return "", err
	}
	done = true
	return c.Name, nil
}

// lookupUser turns an image's user ("", "name", "uid", "name:group",
// "uid:gid") into ids, from the node's /etc/passwd and /etc/group.
func lookupUser(root, user string) (specs.User, error) {
	if user == "" {
		return specs.User{}, nil
	}
	name, group, _ := strings.Cut(user, ":")
	var u specs.User
	var gidSet bool
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID = uint32(id)
	} else {
		f, ok := findEntry(filepath.Join(root, "etc/passwd"), name)
		if !ok || len(f) < 4 {
			return u, fmt.Errorf("the image's user %q is not in its /etc/passwd", name)
		}
		uid, _ := strconv.ParseUint(f[2], 10, 32)
		gid, _ := strconv.ParseUint(f[3], 10, 32)
		u.UID, u.GID, gidSet = uint32(uid), uint32(gid), true
	}
	switch {
	case group == "":
	case isNumber(group):
		gid, _ := strconv.ParseUint(group, 10, 32)
		u.GID, gidSet = uint32(gid), true
	default:
		f, ok := findEntry(filepath.Join(root, "etc/group"), group)
		if !ok || len(f) < 3 {
			return u, fmt.Errorf("the image's group %q is not in its /etc/group", group)
		}
		gid, _ := strconv.ParseUint(f[2], 10, 32)
		u.GID, gidSet = uint32(gid), true
	}
	if !gidSet {
		u.GID = u.UID
	}
	return u, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// findEntry returns the colon-separated fields of name's line in a
// passwd or group file.
func findEntry(file, name string) ([]string, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 && f[0] == name {
			return f, true
		}
	}
	return nil, false
}

// writeFiles writes the node's files through its mounted root (so that
// they land in its own layer), never following a link out of it.
func writeFiles(root string, files map[string]string) error {
	if len(files) == 0 {
		return nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("file %q: the path in the node must be absolute", p)
		}
		rel := strings.TrimPrefix(filepath.Clean(p), "/")
		if err := r.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		if err := r.WriteFile(rel, []byte(files[p]), 0o644); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		if err := r.Chmod(rel, 0o644); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
	}
	return nil
}

// writeRoot writes the node's files into its own layer, through its
// overlay root mounted for that only, and returns the image's user as the
// node's root then has it (its /etc/passwd may be one of the files). The
// node's root is mounted by runc, in the node's mount namespace (the
// first of its mounts): on the host, every mount would be copied into each
// later node's namespace, and each node would start slower than the one
// before.
func writeRoot(img *rootfs.Image, dir string, files map[string]string) (user specs.User, err error) {
	if len(files) == 0 {
		return lookupUser(img.Dir, img.User)
	}
	if err := mountOverlay(img.Dir, dir); err != nil {
		return specs.User{}, err
	}
	merged := filepath.Join(dir, "rootfs")
	defer func() {
		if uerr := unix.Unmount(merged, unix.MNT_DETACH); uerr != nil && err == nil {
			err = fmt.Errorf("unmount %s: %w", merged, uerr)
		}
	}()
	if err := writeFiles(merged, files); err != nil {
		return specs.User{}, fmt.Errorf("write its files: %w", err)
	}
	return lookupUser(merged, img.User)
}

// rootMount is the node's root, an overlayfs of its image (lower) under
// its own layer, mounted by runc as the node's first mount.
func rootMount(lower, dir string) specs.Mount {
	return specs.Mount{Destination: "/", Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + lower, "upperdir=" + filepath.Join(dir, "upper"), "workdir=" + filepath.Join(dir, "work")}}
}

// rebase puts the node's own layer on another image root (lower): the
// bundle's config then mounts that one.
func rebase(cfg *specs.Spec, lower, dir string) error {
	if len(cfg.Mounts) == 0 || cfg.Mounts[0].Destination != "/" {
		return fmt.Errorf("%s: its first mount is not the node's root; netlab down and up make it again", dir)
	}
	cfg.Mounts[0] = rootMount(lower, dir)
	cfg.Annotations[annotationLower] = lower
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	return writeConfigFile(dir, data)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return path != "" && err == nil
}

// mountOverlay mounts the node's root: lower the image, upper and work
// its own, on dir/rootfs. Mounted already is success.
func mountOverlay(lower, dir string) error {
	merged := filepath.Join(dir, "rootfs")
	if engine.Mounted(merged) {
		return nil
	}
	opts := "lowerdir=" + lower + ",upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount the overlay root %s (%s): %w", merged, opts, err)
	}
	return nil
}

// removeBundle unmounts a node's root and removes its bundle.
func removeBundle(dir string) error {
	merged := filepath.Join(dir, "rootfs")
	for engine.Mounted(merged) {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", merged, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove bundle %s: %w", dir, err)
	}
	return nil
}

// writeConfigFile writes a node's config.json whole or not at all (a file
// beside it, renamed over it): List reads every lab's config.json, and a
// class's ups, each listing while others write, read one half-written
// ("unexpected end of JSON input", an up failed).
func writeConfigFile(dir string, data []byte) error {
	tmp := filepath.Join(dir, ".config.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "config.json")); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readConfig reads a node's config.json.
func readConfig(dir string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var cfg specs.Spec
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, "config.json"), err)
	}
	if cfg.Root == nil {
		return nil, fmt.Errorf("%s has no root", filepath.Join(dir, "config.json"))
	}
	return &cfg, nil
}
