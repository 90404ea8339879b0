package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// Whiteout files in a layer (OCI image spec, layer.md): ".wh.NAME" hides
// NAME of the layers below, ".wh..wh..opq" everything they put in its
// directory.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// unpacker applies an image's layers, bottom first, to a new directory
// that only it writes to, as Docker and containerd apply them: an entry
// replaces what lower layers have at its path (a hard link to the old file
// keeps the old file), whiteouts remove. (go-containerregistry's
// mutate.Extract flattens top first, which breaks hard links whose target
// an upper layer replaced or removed: its issues 977 and 2002.)
//
// It never follows a symbolic link while writing: every path is checked
// against what it has created itself (paths), so an entry under a symlink
// or under any other non-directory is skipped, as a layer made from a real
// file system cannot hold one.
type unpacker struct {
	root  string
	owner bool // root: set ownership, make device nodes, require capabilities
	// uid and gid own what the unpacker creates; no chown is needed for
	// entries of theirs (in images, most are root's).
	uid, gid int
	// paths holds every path created ("" is the root) with its type and
	// the last layer that listed it (or needed it as a parent).
	paths map[string]node
	// dirs holds the directories' modes and times, applied last: writing
	// children changes a directory's mtime, and a read-only mode would stop
	// an unprivileged unpack. Directories made only as parents have none.
	dirs  map[string]dirMeta
	layer int
	buf   []byte
}

type node struct {
	kind  byte // tar type
	layer int
}

type dirMeta struct {
	mode         uint32
	atime, mtime time.Time
}

// newUnpacker makes the directory dir, which must not exist yet.
func newUnpacker(dir string) (*unpacker, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	// What it creates belongs to the root's owner and group (the group is
	// the parent's if that has the set-group-ID bit: then so has the root).
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return nil, err
	}
	return &unpacker{
		root:  dir,
		owner: os.Geteuid() == 0,
		uid:   int(st.Uid),
		gid:   int(st.Gid),
		paths: map[string]node{"": {kind: tar.TypeDir}},
		dirs:  map[string]dirMeta{},
		buf:   make([]byte, 1<<20),
	}, nil
}

// unpackImage applies img's layers into root.
func unpackImage(ctx context.Context, img v1.Image, root string) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("read image layers: %w", err)
	}
	u, err := newUnpacker(root)
	if err != nil {
		return err
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return fmt.Errorf("read layer %d: %w", i, err)
		}
		err = u.apply(ctx, tar.NewReader(rc))
		if err == nil {
			// To its end, so a verifying reader checks the layer's digest.
			_, err = io.Copy(io.Discard, rc)
		}
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return u.finish()
}

// unpack writes one layer's entries into dir, which must not exist yet.
func unpack(ctx context.Context, tr *tar.Reader, dir string) error {
	u, err := newUnpacker(dir)
	if err != nil {
		return err
	}
	if err := u.apply(ctx, tr); err != nil {
		return err
	}
	return u.finish()
}

// apply applies the next layer.
func (u *unpacker) apply(ctx context.Context, tr *tar.Reader) error {
	u.layer++
	for n := 0; ; n++ {
		if n%512 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
}

// finish sets the directories' modes and times: deepest first, the root
// last, so a parent's mode never stops the work on its children.
func (u *unpacker) finish() error {
	if _, ok := u.dirs[""]; !ok {
		// No entry for the root itself: make it what Docker makes.
		now := time.Now()
		u.dirs[""] = dirMeta{mode: 0o755, atime: now, mtime: now}
	}
	depth := func(rel string) int {
		if rel == "" {
			return -1
		}
		return strings.Count(rel, "/")
	}
	rels := slices.Collect(func(yield func(string) bool) {
		for rel := range u.dirs {
			if !yield(rel) {
				return
			}
		}
	})
	slices.SortFunc(rels, func(a, b string) int { return depth(b) - depth(a) })
	for _, rel := range rels {
		d, p := u.dirs[rel], u.abs(rel)
		if err := unix.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("unpack %q: %w", rel, err)
		}
		if err := setTimes(p, d.atime, d.mtime); err != nil {
			return fmt.Errorf("unpack %q: %w", rel, err)
		}
	}
	return nil
}

func (u *unpacker) abs(rel string) string {
	if rel == "" {
		return u.root
	}
	return u.root + "/" + rel
}

// clean turns a tar name into a path relative to the root ("" for the root
// itself), refusing any ".." component.
func clean(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", errors.New("name contains a NUL byte")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New("name leaves the root filesystem (..)")
		}
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), nil
}

// parents makes sure every parent of rel is a directory it created, making
// missing ones when create is set, and marks them as needed by this layer;
// false when one is missing or a non-directory (a symlink, a file), which
// hides rel.
func (u *unpacker) parents(rel string, create bool) (bool, error) {
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		p := rel[:i]
		n, seen := u.paths[p]
		switch {
		case seen && n.kind != tar.TypeDir:
			return false, nil
		case !seen && !create:
			return false, nil
		case !seen:
			if err := os.Mkdir(u.abs(p), 0o755); err != nil {
				return false, err
			}
		}
		u.paths[p] = node{kind: tar.TypeDir, layer: u.layer}
	}
	return true, nil
}

// removePath removes rel and, for a directory, everything under it.
func (u *unpacker) removePath(rel string) error {
	n, ok := u.paths[rel]
	if !ok {
		return nil
	}
	if n.kind != tar.TypeDir {
		delete(u.paths, rel)
		return os.Remove(u.abs(rel))
	}
	return u.removeAll(map[string]bool{rel: true})
}

// removeLower removes what layers below this one put under dir. A path
// that this layer listed, or needed as a parent, stays with what it holds
// from this layer.
func (u *unpacker) removeLower(dir string) error {
	roots := map[string]bool{}
	for p, n := range u.paths {
		if p == "" || n.layer >= u.layer || dir != "" && !strings.HasPrefix(p, dir+"/") {
			continue
		}
		// Only the topmost: a parent in this layer, or dir itself.
		if parent := parentOf(p); parent == dir || u.paths[parent].layer >= u.layer {
			roots[p] = true
		}
	}
	return u.removeAll(roots)
}

// removeAll removes the paths in roots and everything under them.
func (u *unpacker) removeAll(roots map[string]bool) error {
	if len(roots) == 0 {
		return nil
	}
	for r := range roots {
		if err := os.RemoveAll(u.abs(r)); err != nil {
			return err
		}
	}
	for p := range u.paths {
		for q := p; q != ""; q = parentOf(q) {
			if roots[q] {
				delete(u.paths, p)
				delete(u.dirs, p)
				break
			}
		}
	}
	return nil
}

// parentOf is a relative path's parent ("" for the root's children).
func parentOf(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ""
	}
	return rel[:i]
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := clean(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := parentOf(rel), path.Base(rel)
	if base == whiteoutOpaque {
		if ok, err := u.parents(rel, false); !ok || err != nil {
			return err
		}
		return u.removeLower(dir)
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if name == "" || name == "." || name == ".." {
			return errors.New("whiteout names no file")
		}
		if ok, err := u.parents(rel, false); !ok || err != nil {
			return err
		}
		hidden := path.Join(dir, name)
		if n, ok := u.paths[hidden]; ok && n.layer < u.layer {
			return u.removePath(hidden)
		}
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil // nothing a root filesystem needs (tar's own metadata entries)
	}
	ok, err := u.parents(rel, true)
	if err != nil || !ok {
		return err
	}
	if old, seen := u.paths[rel]; seen {
		if old.kind == tar.TypeDir && hdr.Typeflag == tar.TypeDir {
			// A directory over a directory: the contents merge, the
			// metadata is the upper one's.
			u.paths[rel] = node{kind: tar.TypeDir, layer: u.layer}
			return u.dir(rel, hdr)
		}
		if rel == "" {
			return errors.New("the root is not a directory")
		}
		if hdr.Typeflag == tar.TypeLink {
			if target, err := clean(hdr.Linkname); err == nil && target == rel {
				return nil // a link to itself: already there
			}
		}
		if err := u.removePath(rel); err != nil {
			return err
		}
	}
	p := u.abs(rel)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		u.paths[rel] = node{kind: tar.TypeDir, layer: u.layer}
		return u.dir(rel, hdr)
	case tar.TypeReg:
		u.paths[rel] = node{kind: tar.TypeReg, layer: u.layer}
		return u.file(p, hdr, r)
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
		u.paths[rel] = node{kind: tar.TypeSymlink, layer: u.layer}
		if err := u.chown(p, hdr); err != nil {
			return err
		}
		return setTimes(p, hdr.AccessTime, hdr.ModTime)
	case tar.TypeLink:
		target, err := clean(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		n, ok := u.paths[target]
		if !ok {
			return fmt.Errorf("hard link target %q is not in the image", hdr.Linkname)
		}
		if n.kind == tar.TypeDir {
			return fmt.Errorf("hard link to directory %q", hdr.Linkname)
		}
		// link(2) does not follow a symlink target; the target's parents
		// were checked when it was made.
		if err := os.Link(u.abs(target), p); err != nil {
			return err
		}
		u.paths[rel] = node{kind: n.kind, layer: u.layer}
		return nil
	default: // device nodes and fifos
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		if !u.owner && hdr.Typeflag != tar.TypeFifo {
			return nil // only root makes device nodes; the runtime mounts /dev anyway
		}
		if err := unix.Mknod(p, mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return err
		}
		u.paths[rel] = node{kind: hdr.Typeflag, layer: u.layer}
		if err := u.chown(p, hdr); err != nil {
			return err
		}
		if err := unix.Chmod(p, mode&0o7777); err != nil {
			return err
		}
		return setTimes(p, hdr.AccessTime, hdr.ModTime)
	}
}

// dir sets a directory's owner and extended attributes now and records its
// mode and times for the end.
func (u *unpacker) dir(rel string, hdr *tar.Header) error {
	p := u.abs(rel)
	if err := u.chown(p, hdr); err != nil {
		return err
	}
	if err := u.xattrs(p, hdr); err != nil {
		return err
	}
	u.dirs[rel] = dirMeta{mode: uint32(hdr.Mode & 0o7777), atime: hdr.AccessTime, mtime: hdr.ModTime}
	return nil
}

// file writes a regular file: content, then owner, then mode (chown clears
// set-user-ID bits), then extended attributes (chown clears capabilities).
func (u *unpacker) file(p string, hdr *tar.Header, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(struct{ io.Writer }{f}, r, u.buf)
	if err == nil && u.owner && (hdr.Uid != u.uid || hdr.Gid != u.gid) {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = unix.Fchmod(int(f.Fd()), uint32(hdr.Mode&0o7777))
	}
	if err == nil {
		err = u.xattrs(p, hdr)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return setTimes(p, hdr.AccessTime, hdr.ModTime)
}

// chown sets the owner when running as root (an unprivileged unpack keeps
// its own).
func (u *unpacker) chown(p string, hdr *tar.Header) error {
	if !u.owner || hdr.Uid == u.uid && hdr.Gid == u.gid {
		return nil
	}
	return unix.Lchown(p, hdr.Uid, hdr.Gid)
}

// xattrs sets the extended attributes a tar records (SCHILY.xattr.*). Only
// a file capability is required (ping needs it); others are best effort, as
// the file system or an unprivileged user may refuse them.
func (u *unpacker) xattrs(p string, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		err := unix.Lsetxattr(p, name, []byte(v), 0)
		if err != nil && u.owner && name == "security.capability" {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	return nil
}

// setTimes sets a path's times without following a symlink.
func setTimes(p string, atime, mtime time.Time) error {
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// removeTree removes a directory tree, first making its directories
// writable when an unprivileged user cannot otherwise remove their content.
func removeTree(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
