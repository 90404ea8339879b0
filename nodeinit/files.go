package nodeinit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FilesDir is where a runtime that cannot write into a node's file system
// before it starts (Kubernetes: a pod's files come as a ConfigMap volume)
// puts the node's files, as a tree under the node's root: the init copies
// them into place with -files before it runs the command.
const FilesDir = "/.netlab/files"

// filesCopied marks, in the container's own file system, that its files
// are in place: a container started again (docker restart, netlab start)
// keeps what the node changed in them, as a machine keeps its files
// across a reboot. A container made again (Docker), or a pod made again
// (Kubernetes), has none, and gets the lab's files.
const filesCopied = "/.netlab/files-copied"

// copyFilesOnce copies the tree dir into place (copyTree) unless this
// container did already.
func copyFilesOnce(dir string) error {
	if _, err := os.Stat(filesCopied); err == nil {
		return nil
	}
	if err := copyTree(dir, "/"); err != nil {
		return err
	}
	return os.WriteFile(filesCopied, nil, 0o644)
}

// copyTree copies every regular file under dir to the same path under
// root, readable by every user (FRR's daemons read theirs as user frr),
// executable by every user when it is executable in dir,
// making missing directories; existing directories keep their owner and
// mode. Names starting with ".." are skipped: a ConfigMap volume keeps its
// versions there, and shows the current one through symbolic links, which
// are followed.
func copyTree(dir, root string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		from, to := filepath.Join(dir, e.Name()), filepath.Join(root, e.Name())
		info, err := os.Stat(from) // through the volume's links
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
			if err := copyTree(from, to); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			data, err := os.ReadFile(from)
			if err != nil {
				return err
			}
			if err := writeReplacing(to, data, info.Mode()&0o111 != 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeReplacing writes data to path as a new file (mode 0644, or 0755
// when exec) that takes the place of what is there: a symbolic link in the
// image is replaced, not followed.
func writeReplacing(path string, data []byte, exec bool) error {
	mode := os.FileMode(0o644)
	if exec {
		mode = 0o755
	}
	tmp := path + ".netlab-new"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil { // whatever the umask
		return err
	}
	return os.Rename(tmp, path)
}
