package spec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Files a lab refers to (config.frr, a check's signature, the .env beside
// it, a Kathará lab's files) are read with ReadLabFile: beneath the lab's
// directory without following a symbolic link out of it, only if regular
// (a FIFO would block, /dev/zero never end), and up to a limit. Errors
// name the file, never its content.

// Limits on the files a lab refers to, by kind.
const (
	MaxConfigBytes    = 1 << 20  // config.frr
	MaxDotEnvBytes    = 1 << 20  // .env
	MaxSignatureBytes = 16 << 20 // a Kathará builtin signature
)

// ErrOutsideLab says a file a lab refers to is not beneath its directory.
var ErrOutsideLab = errors.New("outside the lab's directory")

// ReadLabFile reads name beneath dir, name relative to it (or absolute
// and beneath it): symbolic links are followed only while they stay
// beneath dir, the file must be a regular one, and one of more than limit
// bytes is refused. A relative name that leads out of dir ("..", a link)
// is refused with ErrOutsideLab. An absolute name outside dir is the
// file's author's choice: it is read beneath its own directory (its last
// component cannot lead elsewhere), and trust.Requests lists it as an
// access to the host that a person must allow before the lab runs.
func ReadLabFile(dir, name string, limit int64) ([]byte, error) {
	rel, err := BeneathDir(dir, name)
	if errors.Is(err, ErrOutsideLab) && filepath.IsAbs(name) {
		dir, rel = filepath.Dir(filepath.Clean(name)), filepath.Base(name)
	} else if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open the lab's directory: %w", err)
	}
	defer root.Close()
	return readIn(root, rel, name, limit)
}

// ReadFileSafely reads a file the user named: like ReadLabFile beneath the
// file's own directory, after resolving the symbolic links of the name as
// written (the user chose it; what it refers to may not escape).
func ReadFileSafely(file string, limit int64) ([]byte, error) {
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(filepath.Dir(real))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readIn(root, filepath.Base(real), file, limit)
}

// BeneathDir is name relative to dir, for a name relative to dir or
// absolute and beneath it, compared as written ("..": ErrOutsideLab).
func BeneathDir(dir, name string) (string, error) {
	rel := name
	if filepath.IsAbs(name) {
		absDir, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if rel, err = filepath.Rel(absDir, filepath.Clean(name)); err != nil {
			return "", &os.PathError{Op: "open", Path: name, Err: ErrOutsideLab}
		}
	}
	rel = filepath.Clean(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return "", &os.PathError{Op: "open", Path: name, Err: ErrOutsideLab}
	}
	return rel, nil
}

func readIn(root *os.Root, rel, name string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO does not wait for a writer; it is
	// refused below, as is anything but a regular file.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
			return nil, &os.PathError{Op: "open", Path: name, Err: ErrOutsideLab}
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("not a regular file (%s)", st.Mode().Type())}
	}
	if st.Size() > limit {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("%d bytes, more than the %d it may have", st.Size(), limit)}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("more than the %d bytes it may have", limit)}
	}
	return data, nil
}

// dir is the directory of the lab file, which the files it refers to are
// beneath ("." for a lab read from bytes with no file name).
func (l *Lab) dir() string { return filepath.Dir(l.File) }

// Position is the line and column of the value at a YAML path of the lab
// (as Problem.Path writes it), or of its nearest parent; 0, 0 if unknown.
func (l *Lab) Position(at string) (line, col int) {
	if l.pos.value == nil {
		return 0, 0
	}
	return l.pos.find(at)
}

// Path is the YAML path of a node's key as the lab file writes it: under
// defaults when the node took the default's value (nodes.h1.volumes[0],
// or defaults.volumes[0]).
func (n *Node) Path(key string, more ...any) string { return n.at(key, more...) }

// YAMLPath builds a YAML path from keys (strings) and list indexes (ints),
// as problems write them: nodes.h1.publish[0].
func YAMLPath(parts ...any) string { return path(parts...) }
