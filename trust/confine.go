package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Resolve is the path as the links on its way resolve now, also where its
// end does not exist yet: the longest prefix that exists is resolved, the
// rest appended. A missing volume source is made as a directory, so a link
// on the way of one that does not exist leads where it would be made.
func Resolve(p string) (string, error) {
	p = filepath.Clean(p)
	rest := ""
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// DirOfFile is the directory a lab's files are relative to, from the path
// it was brought up from (a node's netlab.file label): the file's
// directory, or the path itself for a Kathará lab's folder.
func DirOfFile(file string) string {
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return file
	}
	return filepath.Dir(file)
}

// Confine is what a runtime mounts for a volume's host path src (absolute)
// of a lab in labDir. A path beneath the lab's directory as written needed
// no one's consent, so it must still be beneath it as its links resolve
// now, when the node is made (a link made or changed since up checked the
// file is refused); the resolved path is mounted, so that no link is
// followed after this check. A path outside the directory as written is a
// request a person allowed (or up would have refused the lab), and is
// mounted as written.
func Confine(labDir, src string) (string, error) {
	if labDir == "" || !filepath.IsAbs(src) || !beneath(filepath.Clean(labDir), filepath.Clean(src)) {
		return src, nil
	}
	dir, err := Resolve(labDir)
	if err != nil {
		return "", fmt.Errorf("volume %s: resolve the lab's directory %s: %w", src, labDir, err)
	}
	real, err := Resolve(src)
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", src, err)
	}
	if !beneath(dir, real) {
		return "", fmt.Errorf("volume %s leads out of the lab's directory %s through a link, to %s: "+
			"a node may mount only what is beneath its lab's folder unless a person allows more; "+
			"point the link inside the folder, or write the outside path in the lab file and allow it (netlab up --allow-host)",
			src, labDir, real)
	}
	return real, nil
}

// ConfineVolumes is Confine over a container's volumes (SRC:DST[:OPTS]);
// named volumes (no '/' in SRC) stay as they are, and all of them when a
// person allowed the lab's requests of the host (allowed).
func ConfineVolumes(labFile string, volumes []string, allowed bool) ([]string, error) {
	if labFile == "" || allowed {
		return volumes, nil
	}
	dir := DirOfFile(labFile)
	out := make([]string, len(volumes))
	for i, v := range volumes {
		src, rest, _ := strings.Cut(v, ":")
		if !strings.Contains(src, "/") {
			out[i] = v
			continue
		}
		real, err := Confine(dir, src)
		if err != nil {
			return nil, err
		}
		out[i] = real + ":" + rest
	}
	return out, nil
}
