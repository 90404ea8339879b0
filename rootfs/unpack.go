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

	"golang.org/x/sys/unix"
)

// unpacker writes a flattened image tar (mutate.Extract's output: upper
// layers first, whiteouts already applied, each path once) into a new
// directory that only it writes to. It never follows a symbolic link while
// writing: every path is checked against what it has created itself (kinds),
// so an entry under a symlink or under any non-directory is skipped, as the
// upper layer's non-directory hides it.
type unpacker struct {
	root  string
	owner bool // root: set ownership, make device nodes, require capabilities
	// uid and gid own what the unpacker creates; no chown is needed for
	// entries of theirs (in images, most are root's). -1 when unknown.
	uid, gid int
	// kinds is the tar type of every path created, "" being the root; a
	// directory made only as another entry's parent is in implicit until its
	// own entry arrives.
	kinds    map[string]byte
	implicit map[string]bool
	dirs     []dirMeta         // applied last: writing children changes a directory's mtime
	links    map[string]string // hard links waiting for their target: link -> target
	buf      []byte
}

type dirMeta struct {
	rel   string
	mode  uint32
	atime time.Time
	mtime time.Time
}

// unpack writes the entries of tr into dir, which must not exist yet.
func unpack(ctx context.Context, tr *tar.Reader, dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	// What it creates belongs to the root's owner and group (the group is
	// the parent's if that has the set-group-ID bit: then so has the root).
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err
	}
	u := &unpacker{
		root:     dir,
		owner:    os.Geteuid() == 0,
		uid:      int(st.Uid),
		gid:      int(st.Gid),
		kinds:    map[string]byte{"": tar.TypeDir},
		implicit: map[string]bool{"": true},
		links:    map[string]string{},
		buf:      make([]byte, 1<<20),
	}
	for n := 0; ; n++ {
		if n%512 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read image: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
	if err := u.finishLinks(); err != nil {
		return err
	}
	if u.implicit[""] {
		// No entry for the root itself: make it what Docker makes.
		u.dirs = append(u.dirs, dirMeta{rel: "", mode: 0o755, atime: time.Now(), mtime: time.Now()})
	}
	// Deepest first, the root last, so a parent's mode never stops the work
	// on its children.
	depth := func(rel string) int {
		if rel == "" {
			return -1
		}
		return strings.Count(rel, "/")
	}
	slices.SortStableFunc(u.dirs, func(a, b dirMeta) int { return depth(b.rel) - depth(a.rel) })
	for _, d := range u.dirs {
		p := u.abs(d.rel)
		if err := unix.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("unpack %q: %w", d.rel, err)
		}
		if err := setTimes(p, d.atime, d.mtime); err != nil {
			return fmt.Errorf("unpack %q: %w", d.rel, err)
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

// parents makes sure every parent of rel is a directory it created,
// creating missing ones; false when one is a non-directory (a symlink, a
// file), which hides rel.
func (u *unpacker) parents(rel string) (bool, error) {
	if rel == "" {
		return true, nil
	}
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		p := rel[:i]
		k, seen := u.kinds[p]
		if seen {
			if k != tar.TypeDir {
				return false, nil
			}
			continue
		}
		if err := os.Mkdir(u.abs(p), 0o755); err != nil {
			return false, err
		}
		u.kinds[p] = tar.TypeDir
		u.implicit[p] = true
	}
	return true, nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := clean(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil // nothing a root filesystem needs (tar's own metadata entries)
	}
	ok, err := u.parents(rel)
	if err != nil || !ok {
		return err
	}
	if k, seen := u.kinds[rel]; seen {
		// The first entry for a path wins (upper layers come first); only a
		// directory made as a parent takes its own entry's metadata.
		if k == tar.TypeDir && hdr.Typeflag == tar.TypeDir && u.implicit[rel] {
			delete(u.implicit, rel)
			return u.dir(rel, hdr)
		}
		return nil
	}
	p := u.abs(rel)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		u.kinds[rel] = tar.TypeDir
		return u.dir(rel, hdr)
	case tar.TypeReg:
		u.kinds[rel] = tar.TypeReg
		return u.file(p, hdr, r)
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
		u.kinds[rel] = tar.TypeSymlink
		if err := u.chown(p, hdr); err != nil {
			return err
		}
		return setTimes(p, hdr.AccessTime, hdr.ModTime)
	case tar.TypeLink:
		target, err := clean(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		u.kinds[rel] = tar.TypeLink
		u.links[rel] = target
		return u.link(rel)
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
		u.kinds[rel] = hdr.Typeflag
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
	u.dirs = append(u.dirs, dirMeta{rel: rel, mode: uint32(hdr.Mode & 0o7777), atime: hdr.AccessTime, mtime: hdr.ModTime})
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

// link makes the hard link rel when its target exists; otherwise it waits
// (in the flattened stream a lower layer's target comes after the link).
func (u *unpacker) link(rel string) error {
	target := u.links[rel]
	k, seen := u.kinds[target]
	if !seen {
		return nil
	}
	if k == tar.TypeDir {
		return fmt.Errorf("hard link to directory %q", target)
	}
	if _, waiting := u.links[target]; waiting {
		return nil
	}
	if err := os.Link(u.abs(target), u.abs(rel)); err != nil {
		return err
	}
	delete(u.links, rel)
	return nil
}

// finishLinks makes the hard links that waited for their targets.
func (u *unpacker) finishLinks() error {
	for len(u.links) > 0 {
		before := len(u.links)
		for _, rel := range slices.Sorted(mapKeys(u.links)) {
			if err := u.link(rel); err != nil {
				return fmt.Errorf("unpack %q: %w", rel, err)
			}
		}
		if len(u.links) == before {
			rel := slices.Sorted(mapKeys(u.links))[0]
			return fmt.Errorf("unpack %q: hard link target %q is not in the image", rel, u.links[rel])
		}
	}
	return nil
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
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
