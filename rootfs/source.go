package rootfs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/netlab/netlab/dockerapi"
)

// dockerSave exports image id from the engine (the archive `docker save`
// writes) into tmp and unpacks it into root. Saving by ID rather than by
// name exports exactly the image inspected, even if the name moves
// meanwhile. The archive is read from a file: it lists the layers in no
// particular order and names their order only at its end. (Unpacking a
// one-layer image while it arrives saved nothing: the engine writes the
// whole archive into a directory of its own before it sends a byte.)
func dockerSave(ctx context.Context, cli *dockerapi.Client, id, tmp, root string) error {
	rc, err := cli.ImageSave(ctx, id)
	if err != nil {
		return fmt.Errorf("export from Docker: %w", err)
	}
	defer rc.Close()
	path := filepath.Join(tmp, "image.tar")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export from Docker: %w", err)
	}
	img, err := readSaved(path, id)
	if err != nil {
		return err
	}
	return unpackImage(ctx, img, root)
}

// readSaved reads the image with ID id from a `docker save` archive of it.
func readSaved(path, id string) (v1.Image, error) {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, fmt.Errorf("read Docker's export: %w", err)
	}
	got, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("read Docker's export: %w", err)
	}
	if got.String() != id {
		return nil, fmt.Errorf("the Docker engine exported image %s when asked for %s", got, id)
	}
	return img, nil
}

// Annotations naming a manifest in an OCI layout's index.
const (
	annotationRefName   = "org.opencontainers.image.ref.name"
	annotationImageName = "io.containerd.image.name"
)

// ociImage reads the image tagged tag (or the single one, when tag is
// empty) from the OCI image layout in dir. A tag naming an index (a
// multi-platform image) picks this machine's platform.
func ociImage(dir, tag string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("not an OCI image layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var chosen []v1.Descriptor
	var tags []string
	for _, d := range im.Manifests {
		name := d.Annotations[annotationRefName]
		if name != "" {
			tags = append(tags, name)
		}
		if tag == "" || name == tag || d.Annotations[annotationImageName] == tag {
			chosen = append(chosen, d)
		}
	}
	switch {
	case len(chosen) == 0 && tag != "":
		return nil, fmt.Errorf("no manifest tagged %q (tags: %s)", tag, strings.Join(tags, ", "))
	case len(chosen) == 0:
		return nil, fmt.Errorf("index lists no manifest")
	case len(chosen) > 1 && tag == "":
		return nil, fmt.Errorf("index lists %d manifests: name one with oci:%s:TAG (tags: %s)", len(chosen), dir, strings.Join(tags, ", "))
	case len(chosen) > 1:
		return nil, fmt.Errorf("index lists %d manifests tagged %q", len(chosen), tag)
	}
	d := chosen[0]
	if d.MediaType.IsImage() {
		return idx.Image(d.Digest)
	}
	if !d.MediaType.IsIndex() {
		return nil, fmt.Errorf("manifest %s has media type %s, not an image", d.Digest, d.MediaType)
	}
	child, err := idx.ImageIndex(d.Digest)
	if err != nil {
		return nil, err
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return nil, err
	}
	want := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	for _, m := range cm.Manifests {
		if m.MediaType.IsImage() && (m.Platform == nil && len(cm.Manifests) == 1 || m.Platform != nil && m.Platform.Satisfies(want)) {
			return child.Image(m.Digest)
		}
	}
	return nil, fmt.Errorf("image index %s has no image for %s/%s", d.Digest, want.OS, want.Architecture)
}
