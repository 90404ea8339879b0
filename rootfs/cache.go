package rootfs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrInUse is returned by Remove for an entry that an overlay mount uses
// as a lower layer.
var ErrInUse = errors.New("root filesystem is in use by an overlay mount")

// Names in the cache directory besides the entries (DIR/<hex>).
const (
	lockSuffix = ".lock"   // DIR/<hex>.lock: held while the entry is made or removed
	tmpPrefix  = ".tmp-"   // DIR/.tmp-<hex>-*: an entry being made
	rmPrefix   = ".trash-" // DIR/.trash-<hex>-*: an entry being removed
)

// filler writes an image's root filesystem into root, which does not exist
// yet; tmp is a directory for other files, removed afterwards.
type filler func(ctx context.Context, tmp, root string) error

// ensure returns the entry for RootfsID id, making it with fill when it is
// missing: written to DIR/.tmp-<hex>-*/root under DIR/<hex>.lock, then
// renamed to DIR/<hex>. unpacked says whether this call made it.
func (c *Cache) ensure(ctx context.Context, id string, fill filler) (dir string, unpacked bool, err error) {
	name, err := entryName(id)
	if err != nil {
		return "", false, err
	}
	dst := filepath.Join(c.dir, name)
	if isDir(dst) {
		return dst, false, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", false, fmt.Errorf("rootfs cache: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(c.dir, name+lockSuffix))
	if err != nil {
		return "", false, fmt.Errorf("rootfs cache: lock %s: %w", name, err)
	}
	defer unlock()
	if isDir(dst) {
		return dst, false, nil // another goroutine or process made it meanwhile
	}
	tmp, err := os.MkdirTemp(c.dir, tmpPrefix+name+"-")
	if err != nil {
		return "", false, fmt.Errorf("rootfs cache: %w", err)
	}
	defer removeTree(tmp)
	root := filepath.Join(tmp, "root")
	if err := fill(ctx, tmp, root); err != nil {
		return "", false, err
	}
	if err := os.Rename(root, dst); err != nil {
		if isDir(dst) {
			// Made meanwhile by a process that locked the lock file a
			// Remove unlinked: the same content, so this copy goes.
			return dst, false, nil
		}
		return "", false, fmt.Errorf("rootfs cache: %w", err)
	}
	return dst, true, nil
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// lockFile takes an exclusive flock on path, waiting until ctx is done.
// Each call opens the file anew, so goroutines of one process exclude each
// other as processes do.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(fd, unix.LOCK_UN); f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// tryLock takes the lock only if it is free.
func tryLock(path string) (unlock func(), ok bool) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, false
	}
	fd := int(f.Fd())
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return func() { unix.Flock(fd, unix.LOCK_UN); f.Close() }, true
}

// Entries lists the RootfsIDs in the cache.
func (c *Cache) Entries() ([]string, error) {
	des, err := os.ReadDir(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rootfs cache: %w", err)
	}
	var ids []string
	for _, de := range des {
		id := "sha256:" + de.Name()
		if de.IsDir() && !strings.HasPrefix(de.Name(), ".") {
			if _, err := entryName(id); err == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Remove drops the entry of RootfsID id (an Image's RootfsID, shared by
// the images over the same layers); an entry that is not there is done.
// It refuses with ErrInUse while an overlay mount (in any mount
// namespace: a running node's root) uses the entry.
func (c *Cache) Remove(ctx context.Context, id string) error {
	name, err := entryName(id)
	if err != nil {
		return err
	}
	dst := filepath.Join(c.dir, name)
	if !isDir(dst) {
		return nil
	}
	unlock, err := lockFile(ctx, filepath.Join(c.dir, name+lockSuffix))
	if err != nil {
		return fmt.Errorf("rootfs cache: lock %s: %w", name, err)
	}
	defer unlock()
	return c.remove(name)
}

// remove drops entry name; the caller holds its lock.
func (c *Cache) remove(name string) error {
	dst := filepath.Join(c.dir, name)
	if !isDir(dst) {
		return nil
	}
	used, err := overlayLowers()
	if err != nil {
		return err
	}
	if used[dst] {
		return fmt.Errorf("rootfs cache entry %s: %w; take its lab down first", name, ErrInUse)
	}
	// Out of sight first, so no Get finds a half-removed tree.
	trash, err := os.MkdirTemp(c.dir, rmPrefix+name+"-")
	if err != nil {
		return fmt.Errorf("rootfs cache: %w", err)
	}
	if err := os.Rename(dst, filepath.Join(trash, "root")); err != nil {
		os.Remove(trash)
		return fmt.Errorf("rootfs cache: %w", err)
	}
	if err := removeTree(trash); err != nil {
		return fmt.Errorf("rootfs cache: remove %s: %w", trash, err)
	}
	// The lock file goes too, so a purged cache is empty. A Get waiting on
	// it then makes the entry while another Get may make it under a new
	// lock file: one of the two renames wins, the other keeps its result.
	if err := os.Remove(filepath.Join(c.dir, name+lockSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rootfs cache: %w", err)
	}
	return nil
}

// Prune drops every entry except the RootfsIDs in keep and those in use by
// an overlay mount, and the leftovers of unpacks and removals that were
// interrupted. It returns the IDs it removed.
func (c *Cache) Prune(ctx context.Context, keep ...string) ([]string, error) {
	des, err := os.ReadDir(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rootfs cache: %w", err)
	}
	used, err := overlayLowers()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		n := de.Name()
		switch {
		case strings.HasPrefix(n, tmpPrefix), strings.HasPrefix(n, rmPrefix):
			hex, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(n, tmpPrefix), rmPrefix), "-")
			unlock, ok := tryLock(filepath.Join(c.dir, hex+lockSuffix))
			if !ok {
				continue // an unpack or removal is under way
			}
			if err := removeTree(filepath.Join(c.dir, n)); err != nil {
				errs = append(errs, err)
			}
			if !isDir(filepath.Join(c.dir, hex)) {
				os.Remove(filepath.Join(c.dir, hex+lockSuffix))
			}
			unlock()
		case de.IsDir():
			id := "sha256:" + n
			if _, err := entryName(id); err != nil || slices.Contains(keep, id) || used[filepath.Join(c.dir, n)] {
				continue
			}
			unlock, err := lockFile(ctx, filepath.Join(c.dir, n+lockSuffix))
			if err != nil {
				return removed, err
			}
			err = c.remove(n)
			unlock()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, id)
		}
	}
	return removed, errors.Join(errs...)
}

// overlayLowers is the set of directories that overlay mounts use as
// lower layers, in every mount namespace: a node on the runc runtime has
// its root mounted in its own namespace only.
func overlayLowers() (map[string]bool, error) {
	used := map[string]bool{}
	if err := lowersIn("/proc/self/mountinfo", used); err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	seen := map[string]bool{}
	if ns, err := os.Readlink("/proc/self/ns/mnt"); err == nil {
		seen[ns] = true
	}
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		ns, err := os.Readlink("/proc/" + p.Name() + "/ns/mnt")
		if err != nil || seen[ns] {
			continue // gone meanwhile, or read already
		}
		seen[ns] = true
		lowersIn("/proc/"+p.Name()+"/mountinfo", used) // a process gone meanwhile took its mounts along
	}
	return used, nil
}

// lowersIn adds the lower layers of the overlay mounts a mountinfo file
// lists to used.
func lowersIn(file string, used map[string]bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, after, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(after)
		if !ok || len(fields) < 3 || fields[0] != "overlay" {
			continue
		}
		for _, opt := range strings.Split(fields[2], ",") {
			k, v, _ := strings.Cut(opt, "=")
			if k != "lowerdir" && k != "lowerdir+" && k != "datadir+" {
				continue
			}
			for _, d := range strings.Split(v, ":") {
				used[unescapeMount(d)] = true
			}
		}
	}
	return sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if o, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(o)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	var v int
	for _, c := range s {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v < 256
}
