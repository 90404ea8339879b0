// Package rootfs turns the images people already have into root
// filesystems for the runc runtime: an image in the local Docker engine's
// store ("netlab/host"), an OCI image layout directory ("oci:PATH") or a
// plain root filesystem directory ("rootfs:PATH"). An image's layers are
// read with go-containerregistry and applied, bottom first and whiteouts
// included, once, into a cache keyed by their chain ID (so images that
// differ only in configuration, like fopnp/www and fopnp/dns, share one
// entry), where each node's overlayfs uses them as its read-only lower
// layer.
package rootfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"

	"github.com/netlab/netlab/dockerapi"
)

// DefaultDir is where NewCache("") keeps unpacked images.
const DefaultDir = "/var/lib/netlab/rootfs"

// Reference prefixes: an image reference without one names an image in the
// local Docker engine's store.
const (
	PrefixOCI    = "oci:"
	PrefixRootfs = "rootfs:"
)

// Image is an image unpacked for the runc runtime.
type Image struct {
	// ID is the image's content ID: the Docker image ID or an OCI image's
	// config digest ("sha256:..."; the same image gets the same ID from
	// either source), or for rootfs:PATH a hash of the absolute path.
	ID string
	// RootfsID names what Dir holds: the chain ID of the image's layers
	// (as Docker computes it), or ID for rootfs:PATH. Images built with
	// other configurations over the same layers have other IDs but the same
	// RootfsID, and share Dir. Remove and Prune take RootfsIDs.
	RootfsID string
	// Dir is the unpacked root filesystem, to be used read-only (the lower
	// layer of an overlayfs); for rootfs:PATH, PATH itself.
	Dir string
	// The image's configuration (empty for rootfs:PATH).
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
	Labels               map[string]string
	// Unpacked is true when this Get exported and unpacked the image, false
	// when it came from the cache (or is a rootfs:PATH).
	Unpacked bool
}

// Cache holds unpacked images under a directory, one per RootfsID, in
// DIR/<hex>. Entries are created whole (unpacked next to the cache, then
// renamed into place) under a per-image lock file, so concurrent Gets of
// one image, from goroutines or processes, unpack it once. A Cache is safe
// for concurrent use.
type Cache struct {
	dir string

	mu     sync.Mutex
	docker *dockerapi.Client
	held   map[string]*hold // entry name -> this Cache's Holds of it
}

// NewCache returns the cache in dir (DefaultDir when dir is empty). The
// directory is created when the first image is unpacked.
func NewCache(dir string) *Cache {
	if dir == "" {
		dir = DefaultDir
	}
	return &Cache{dir: dir}
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Close undoes its Holds, and releases the Docker client, if Get made
// one.
func (c *Cache) Close() error {
	c.Release()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docker == nil {
		return nil
	}
	err := c.docker.Close()
	c.docker = nil
	return err
}

// Get returns the image named by ref, unpacking it once. ref is one of:
//   - a Docker image reference in the local engine's store ("netlab/host",
//     "fopnp/www:latest", or an image ID);
//   - "oci:PATH" or "oci:PATH:TAG": an OCI image layout directory, the
//     manifest whose org.opencontainers.image.ref.name is TAG, or without
//     TAG the index's single manifest;
//   - "rootfs:PATH": a plain root filesystem directory, used in place, with
//     an empty configuration.
//
// An image whose layers are already in the cache is not exported or
// unpacked again; a rebuilt image with other content gets a new entry. The
// image's ID and configuration come from the engine's ImageInspect (or the
// layout's config) on every call, so that costs about a millisecond.
func (c *Cache) Get(ctx context.Context, ref string) (*Image, error) {
	switch {
	case strings.HasPrefix(ref, PrefixRootfs):
		return plainRootfs(strings.TrimPrefix(ref, PrefixRootfs))
	case strings.HasPrefix(ref, PrefixOCI):
		return c.getOCI(ctx, strings.TrimPrefix(ref, PrefixOCI))
	case ref == "":
		return nil, errors.New("image reference is empty: name a Docker image, oci:PATH or rootfs:PATH")
	default:
		return c.getDocker(ctx, ref)
	}
}

// plainRootfs is rootfs:PATH: the directory itself.
func plainRootfs(path string) (*Image, error) {
	if path == "" {
		return nil, errors.New("image rootfs: needs a directory: rootfs:PATH")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("image rootfs:%s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("image rootfs:%s: %w", path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("image rootfs:%s: not a directory", path)
	}
	sum := sha256.Sum256([]byte(PrefixRootfs + abs))
	id := "sha256:" + hex.EncodeToString(sum[:])
	return &Image{ID: id, RootfsID: id, Dir: abs, Labels: map[string]string{}}, nil
}

// getDocker gets an image from the local Docker engine: its ID from
// ImageInspect, and only when its layers are not cached yet, the layers
// from ImageSave.
func (c *Cache) getDocker(ctx context.Context, ref string) (*Image, error) {
	cli, err := c.dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	ins, err := cli.ImageInspect(ctx, ref)
	if dockerapi.IsNotFound(err) {
		return nil, fmt.Errorf("image %q is not in the Docker engine's store: build or pull it, or use oci:PATH or rootfs:PATH", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect image %q: %w", ref, err)
	}
	img := &Image{ID: ins.ID, Labels: map[string]string{}}
	if cfg := ins.Config; cfg != nil {
		img.Entrypoint, img.Cmd, img.Env = cfg.Entrypoint, cfg.Cmd, cfg.Env
		img.WorkingDir, img.User = cfg.WorkingDir, cfg.User
		for k, v := range cfg.Labels {
			img.Labels[k] = v
		}
	}
	img.RootfsID, err = chainID(ins.RootFS.Layers)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	img.Dir, img.Unpacked, err = c.ensure(ctx, img.RootfsID, func(ctx context.Context, tmp, root string) error {
		return dockerSave(ctx, cli, ins.ID, tmp, root)
	})
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	return img, nil
}

// dockerClient connects to the engine once, negotiating the API version
// as docker.New (engine/docker) does.
func (c *Cache) dockerClient(ctx context.Context) (*dockerapi.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docker != nil {
		return c.docker, nil
	}
	cli, err := dockerapi.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	if err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("no Docker engine at %s: %v; start it, set DOCKER_HOST, or use an oci:PATH or rootfs:PATH image", cli.Host(), err)
	}
	c.docker = cli
	return cli, nil
}

// getOCI gets an image from an OCI image layout: "PATH" or "PATH:TAG".
func (c *Cache) getOCI(ctx context.Context, spec string) (*Image, error) {
	path, tag := splitOCI(spec)
	if path == "" {
		return nil, errors.New("image oci: needs a directory: oci:PATH or oci:PATH:TAG")
	}
	img, err := ociImage(path, tag)
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: %w", spec, err)
	}
	id, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: config digest: %w", spec, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: config: %w", spec, err)
	}
	out := &Image{ID: id.String(), Labels: map[string]string{}}
	c2 := cfg.Config
	out.Entrypoint, out.Cmd, out.Env = c2.Entrypoint, c2.Cmd, c2.Env
	out.WorkingDir, out.User = c2.WorkingDir, c2.User
	for k, v := range c2.Labels {
		out.Labels[k] = v
	}
	diffIDs := make([]string, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		diffIDs[i] = d.String()
	}
	out.RootfsID, err = chainID(diffIDs)
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: %w", spec, err)
	}
	out.Dir, out.Unpacked, err = c.ensure(ctx, out.RootfsID, func(ctx context.Context, _, root string) error {
		return unpackImage(ctx, img, root)
	})
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: %w", spec, err)
	}
	return out, nil
}

// OCILabels reads the labels of an image in an OCI image layout ("PATH"
// or "PATH:TAG"), without unpacking it.
func OCILabels(spec string) (map[string]string, error) {
	path, tag := splitOCI(spec)
	img, err := ociImage(path, tag)
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: %w", spec, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image oci:%s: config: %w", spec, err)
	}
	return cfg.Config.Labels, nil
}

// splitOCI splits "PATH:TAG" where PATH is a directory: a last colon
// separates a tag only when the whole spec is not itself a directory.
func splitOCI(spec string) (path, tag string) {
	i := strings.LastIndex(spec, ":")
	if i < 0 {
		return spec, ""
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return spec, ""
	}
	return spec[:i], spec[i+1:]
}

// chainID is the chain ID of a stack of layers given by their diff IDs,
// bottom first (identity.ChainID: the OCI image spec's, which Docker's
// layer store uses too). An image without layers gets the digest of
// nothing.
func chainID(diffIDs []string) (string, error) {
	ds := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if _, err := entryName(d); err != nil {
			return "", fmt.Errorf("layer %d: %w", i, err)
		}
		ds[i] = digest.Digest(d)
	}
	if len(ds) == 0 {
		return digest.FromBytes(nil).String(), nil
	}
	return identity.ChainID(ds).String(), nil
}

// entryName is the directory name of a sha256 digest in the cache: its hex.
func entryName(id string) (string, error) {
	algo, h, ok := strings.Cut(id, ":")
	if !ok || algo != "sha256" || len(h) != 64 {
		return "", fmt.Errorf("%q is not a sha256 digest", id)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("%q is not a sha256 digest", id)
	}
	return strings.ToLower(h), nil
}
