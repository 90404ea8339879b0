package engine

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/rootfs"
)

// InitDir holds the builds of netlab that labs run, one directory per
// content (netlab-SHA256PREFIX): its netlab binary, which the lab's helper
// processes run, and its netlab-init, which nodes run as their init. A
// lab then does not depend on where the binary that brought it up was: a
// checkout removed or a binary rebuilt elsewhere leaves its restarted
// nodes able to start. It survives a reboot (unlike RunDir), because the
// engine restarts nodes after one.
var InitDir = "/var/lib/netlab/init"

const initPrefix = "netlab-"

// InitName is the node init's program, looked for beside netlab.
const InitName = "netlab-init"

// Installed is a build of netlab copied into InitDir.
type Installed struct {
	Netlab string // the netlab binary: the lab's helper processes run it
	// Init is what nodes bind as their init: netlab-init, or the netlab
	// binary itself when there was no netlab-init beside it (it has the
	// init's mode too, but its start-up costs each node several times
	// more CPU).
	Init string
	// NoInit is set when there was no netlab-init beside netlab.
	NoInit bool
}

// InstallInit copies the static binary self, and the netlab-init beside
// it, into a directory of InitDir named by their content's hash, once. It
// holds InitDir shared until release is called, so that a down meanwhile
// (PruneInits) leaves the copy alone while up creates nodes that use it.
func InstallInit(self string) (inst Installed, release func(), err error) {
	if err := os.MkdirAll(InitDir, 0o755); err != nil {
		return inst, nil, fmt.Errorf("create %s: %w", InitDir, err)
	}
	lock, err := os.OpenFile(filepath.Join(InitDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return inst, nil, fmt.Errorf("lock %s: %w", InitDir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_SH); err != nil {
		lock.Close()
		return inst, nil, fmt.Errorf("lock %s: %w", InitDir, err)
	}
	release = func() { lock.Close() }
	inst, err = installBuild(self)
	if err != nil {
		release()
		return inst, nil, err
	}
	return inst, release, nil
}

func installBuild(self string) (Installed, error) {
	dir, files, err := buildOf(self)
	if err != nil {
		return Installed{}, err
	}
	inst := Installed{Netlab: filepath.Join(dir, "netlab"), Init: filepath.Join(dir, InitName), NoInit: len(files) == 1}
	if inst.NoInit {
		inst.Init = inst.Netlab
	}
	for i, to := range []string{inst.Netlab, inst.Init}[:len(files)] {
		if st, err := os.Stat(to); err == nil && st.Mode().IsRegular() {
			continue
		} else if err == nil && st.IsDir() {
			os.Remove(to) // the engine made an empty directory there for a bind whose source was gone
		}
		if _, err := installFrom(files[i], to); err != nil {
			return Installed{}, err
		}
	}
	return inst, nil
}

// buildOf is the directory in InitDir that holds the build of the static
// binary self (and of the netlab-init beside it, if there is one), and the
// files it is made of.
func buildOf(self string) (dir string, files []string, err error) {
	files = []string{self}
	init := filepath.Join(filepath.Dir(self), InitName)
	if _, err := os.Stat(init); err == nil {
		if err := Static(init); err != nil {
			return "", nil, err
		}
		files = append(files, init)
	}
	h := sha256.New()
	for _, f := range files {
		id, err := fileID(f)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprintln(h, id)
	}
	return filepath.Join(InitDir, initPrefix+hex.EncodeToString(h.Sum(nil))[:16]), files, nil
}

// BuildDir is the directory in InitDir that holds the build of the static
// binary self, whether it is there or not.
func BuildDir(self string) (string, error) {
	dir, _, err := buildOf(self)
	return dir, err
}

// fileID names a program file's content: its Go build ID (the Go
// linker's hash of the binary it wrote) and its size, read in a
// millisecond, where up would otherwise hash netlab's 30 MB each time;
// without a build ID, the hash of its content.
func fileID(file string) (string, error) {
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	if f, err := elf.Open(file); err == nil {
		var note []byte
		if sec := f.Section(".note.go.buildid"); sec != nil {
			note, _ = sec.Data()
		}
		f.Close()
		// namesz, descsz, type (4 bytes each), "Go\x00\x00", the ID.
		if len(note) > 16 && string(note[12:16]) == "Go\x00\x00" {
			if id := strings.TrimRight(string(note[16:]), "\x00"); id != "" {
				return fmt.Sprintf("go:%s:%d", id, st.Size()), nil
			}
		}
	}
	h := sha256.New()
	if err := hashFile(h, file); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return nil
}

// Static says why the program file cannot run in a node, which has none
// of the host's libraries: nil when it is linked statically.
func Static(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is linked dynamically, but nodes run it: build it with CGO_ENABLED=0 (make build does)", file)
		}
	}
	return nil
}

// installFrom copies the file src to path, atomically (a temporary file
// renamed into place), executable.
func installFrom(from, path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	src, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".install-*")
	if err != nil {
		return "", fmt.Errorf("copy %s into %s: %w", from, InitDir, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy %s into %s: %w", from, InitDir, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("copy %s into %s: %w", from, InitDir, err)
	}
	return path, nil
}

// PruneInits removes the copies in InitDir that no container of any lab
// runs, but keep (a build directory, or ""), unless an up holds the
// directory (the next down prunes then). It returns how many it removed.
func PruneInits(ctx context.Context, d Runtime, keep string) (int, error) {
	gone, _, err := pruneInits(ctx, d, keep, false)
	return len(gone), err
}

// WhenNoUp runs fn unless an up is under way: it holds InitDir, which
// every up holds (shared) from before it makes its first node until it
// has started its last, exclusively for fn's run; an up that begins
// meanwhile waits. ran is false when an up held it.
func WhenNoUp(fn func() error) (ran bool, err error) {
	if err := os.MkdirAll(InitDir, 0o755); err != nil {
		return false, err
	}
	lock, err := os.OpenFile(filepath.Join(InitDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil
	}
	return true, fn()
}

// InitCopy is a copy of netlab in InitDir and the disk space it takes.
type InitCopy struct {
	Dir   string
	Bytes int64
}

// PruneUnusedInits removes (with dryRun, lists) every copy in InitDir that
// no container of any lab runs. busy: an up holds the directory (it is
// installing or starting nodes on a copy), and nothing was looked at.
func PruneUnusedInits(ctx context.Context, d Runtime, dryRun bool) (gone []InitCopy, busy bool, err error) {
	return pruneInits(ctx, d, "", dryRun)
}

func pruneInits(ctx context.Context, d Runtime, keep string, dryRun bool) (gone []InitCopy, busy bool, err error) {
	lock, err := os.OpenFile(filepath.Join(InitDir, ".lock"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, true, nil // an up is installing or using one
	}
	list, err := d.List(ctx, "")
	if err != nil {
		return nil, false, err
	}
	used := map[string]bool{}
	for _, c := range list {
		// A build's directory, or a single binary (before netlab-init).
		init := c.Labels[naming.LabelInit]
		used[init], used[filepath.Dir(init)] = true, true
	}
	entries, err := os.ReadDir(InitDir)
	if err != nil {
		return nil, false, err
	}
	for _, e := range entries {
		path := filepath.Join(InitDir, e.Name())
		if !strings.HasPrefix(e.Name(), initPrefix) || used[path] || path == keep {
			continue
		}
		c := InitCopy{Dir: path, Bytes: rootfs.DiskUsage(path)}
		if !dryRun {
			if err := os.RemoveAll(path); err != nil {
				return gone, false, err
			}
		}
		gone = append(gone, c)
	}
	return gone, false, nil
}

// InitGone tells whether a container's init binary (its LabelInit) has
// been removed, so that the container cannot start again: up makes it
// again.
func InitGone(labels map[string]string) bool {
	path := labels[naming.LabelInit]
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err != nil || !st.Mode().IsRegular()
}

// RestoreInits puts back the init binary of the lab's running nodes whose
// copy in InitDir was removed, from the node itself (the bind mount still
// holds the file), so that they can start again after a restart. It
// returns the nodes it repaired.
func RestoreInits(ctx context.Context, d Runtime, lab string) ([]string, error) {
	list, err := d.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range list {
		path := c.Labels[naming.LabelInit]
		if c.State != "running" || !InitGone(c.Labels) {
			continue
		}
		n, err := d.Inspect(ctx, c.ID)
		if err != nil || n.Pid == 0 {
			continue
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			os.Remove(path)
		}
		if _, err := installFrom(fmt.Sprintf("/proc/%d/root%s", n.Pid, InitPath), path); err != nil {
			return out, fmt.Errorf("node %s: put back its init %s: %w", c.Node, path, err)
		}
		out = append(out, c.Node)
	}
	return out, nil
}
