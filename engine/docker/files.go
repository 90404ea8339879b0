package docker

import (
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/netlab/netlab/engine"
)

// The files netlab puts in a node (FRR's and radvd's configuration from
// the lab file) are a tree in the node's folder of the lab's state
// directory, bound read-only at nodeinit.FilesDir, which netlab's init
// copies into place at the container's first start (package nodeinit), as
// on Kubernetes. The engine's own copy into a container (its archive API)
// runs the engine's 75 MB binary again for every node, 0.13 CPU-s each.

// filesDir is where a node's files are kept on the host.
func filesDir(stateDir string) string { return filepath.Join(stateDir, "files") }

// writeFiles writes files (absolute path in the node -> content) as a tree
// under dir, made anew: a node made again has its own files only.
func writeFiles(dir, node string, files map[string]string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		clean, err := engine.NodeFilePath(node, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, []byte(files[p]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
