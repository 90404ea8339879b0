package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
)

// filesTar packs files (absolute path -> content) as a tar archive to be
// unpacked at "/". Files are root's and readable by every user (FRR's
// daemons read theirs as user frr); missing parent directories are made
// by the engine, and existing ones keep their owner and mode.
func filesTar(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("file %q: the path in the node must be absolute", p)
		}
		body := files[p]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(path.Clean(p), "/"), Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// copyFiles writes files into a created container, before it starts.
func (d *Docker) copyFiles(ctx context.Context, id, name string, files map[string]string) error {
	archive, err := filesTar(files)
	if err != nil {
		return fmt.Errorf("files of container %s: %w", name, err)
	}
	if err := d.c.CopyToContainer(ctx, id, "/", bytes.NewReader(archive), container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("write files into container %s: %w", name, err)
	}
	return nil
}
