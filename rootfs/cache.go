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
// as a lower layer, or that a Cache holds (Get) for nodes it has yet to
// start.
var ErrInUse = errors.New("root filesystem is in use by an overlay mount or an up under way")

// Names in the cache directory besides the entries (DIR/<hex>).
const (
	lockSuffix = ".lock"   // DIR/<hex>.lock: held while the entry is made or removed
	useSuffix  = ".use"    // DIR/<hex>.use: flock'ed shared by each Cache that holds the entry
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
	return c.make(ctx, name, fill)
}

// ErrGone is Hold's error for an entry that is no longer in the cache:
// Get the image again.
var ErrGone = errors.New("root filesystem was removed from the cache")

// Hold keeps the entry of RootfsID id from Remove and Prune, in any
// process, until as many Unholds (or Release): between an up's Get and the
// start of its nodes, no overlay mount uses the entry yet, and a down of
// another lab would remove it. It is a shared lock on DIR/<hex>.use, taken
// once per Cache. ErrGone: the entry went before the hold.
func (c *Cache) Hold(ctx context.Context, id string) error {
	name, err := entryName(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.held[name]; h != nil {
		h.count++
		return nil
	}
	f, err := os.OpenFile(filepath.Join(c.dir, name+useSuffix), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("rootfs cache: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			break
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return fmt.Errorf("rootfs cache: hold %s: %w", name, err)
		}
		select { // a Remove holds it for as long as it takes to rename
		case <-ctx.Done():
			f.Close()
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !isDir(filepath.Join(c.dir, name)) {
		f.Close()
		return fmt.Errorf("rootfs cache entry %s: %w", name, ErrGone)
	}
	if c.held == nil {
		c.held = map[string]*hold{}
	}
	c.held[name] = &hold{file: f, count: 1}
	return nil
}

// hold is a Cache's shared lock on an entry's use file, and how many
// Holds it stands for.
type hold struct {
	file  *os.File
	count int
}

// Unhold undoes a Hold.
func (c *Cache) Unhold(id string) {
	name, err := entryName(id)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.held[name]; h != nil {
		if h.count--; h.count <= 0 {
			h.file.Close() // the lock goes with the last descriptor
			delete(c.held, name)
		}
	}
}

// Release undoes every Hold of this Cache.
func (c *Cache) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, h := range c.held {
		h.file.Close()
		delete(c.held, name)
	}
}

// make returns the entry's directory, making it with fill when missing.
func (c *Cache) make(ctx context.Context, name string, fill filler) (dir string, unpacked bool, err error) {
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
	c.mu.Lock()
	_, mine := c.held[name]
	c.mu.Unlock()
	if mine {
		return fmt.Errorf("rootfs cache entry %s: %w (held by this process)", name, ErrInUse)
	}
	unhold, ok := tryLock(filepath.Join(c.dir, name+useSuffix))
	if !ok {
		return fmt.Errorf("rootfs cache entry %s: %w", name, ErrInUse)
	}
	defer unhold()
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
	// A hold that waits on the use file finds the entry gone and makes it
	// again, under a use file of its own.
	if err := os.Remove(filepath.Join(c.dir, name+useSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rootfs cache: %w", err)
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
			if errors.Is(err, ErrInUse) {
				continue // an up under way holds it
			}
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
				used[UnescapeMount(d)] = true
			}
		}
	}
	return sc.Err()
}

// UnescapeMount undoes mountinfo's octal escapes (\040 for a space).
func UnescapeMount(s string) string {
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

// Entry is a cache entry and the disk space it takes.
type Entry struct {
	ID    string `json:"id"` // its RootfsID
	Dir   string `json:"dir"`
	Bytes int64  `json:"bytes"`
}

// Unused lists the entries Prune(keep...) would remove: all but those in
// keep, those an overlay mount uses and those a Cache holds, with the
// space each takes.
func (c *Cache) Unused(keep ...string) ([]Entry, error) {
	ids, err := c.Entries()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	used, err := overlayLowers()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, id := range ids {
		name, _ := entryName(id)
		dir := filepath.Join(c.dir, name)
		if slices.Contains(keep, id) || used[dir] {
			continue
		}
		unhold, free := tryLock(filepath.Join(c.dir, name+useSuffix))
		if !free {
			continue // an up under way holds it
		}
		unhold()
		out = append(out, Entry{ID: id, Dir: dir, Bytes: DiskUsage(dir)})
	}
	return out, nil
}

// DiskUsage is the disk space the tree at path takes, as du counts it:
// allocated blocks, each file with several links once. What cannot be
// read counts nothing.
func DiskUsage(path string) int64 {
	var total int64
	seen := map[[2]uint64]bool{}
	filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		total += st.Blocks * 512
		return nil
	})
	return total
}
