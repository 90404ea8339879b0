package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/netlab/netlab/naming"
)

// InitDir holds the netlab binaries that nodes run as their init and the
// lab's helper processes run as themselves, one copy per content
// (netlab-SHA256PREFIX). A lab then does not depend on where the binary
// that brought it up was: a checkout removed or a binary rebuilt elsewhere
// leaves its restarted nodes able to start. It survives a reboot (unlike
// RunDir), because the engine restarts nodes after one.
var InitDir = "/var/lib/netlab/init"

const initPrefix = "netlab-"

// InstallInit copies the static binary self into InitDir under its
// content's hash, once, and returns that copy's path. It holds the
// directory shared until release is called, so that a down meanwhile
// (PruneInits) leaves the copy alone while up creates nodes that use it.
func InstallInit(self string) (path string, release func(), err error) {
	if err := os.MkdirAll(InitDir, 0o755); err != nil {
		return "", nil, fmt.Errorf("create %s: %w", InitDir, err)
	}
	lock, err := os.OpenFile(filepath.Join(InitDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", nil, fmt.Errorf("lock %s: %w", InitDir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_SH); err != nil {
		lock.Close()
		return "", nil, fmt.Errorf("lock %s: %w", InitDir, err)
	}
	release = func() { lock.Close() }
	path, err = installCopy(self)
	if err != nil {
		release()
		return "", nil, err
	}
	return path, release, nil
}

func installCopy(self string) (string, error) {
	src, err := os.Open(self)
	if err != nil {
		return "", fmt.Errorf("read the netlab binary: %w", err)
	}
	defer src.Close()
	h := sha256.New()
	if _, err := io.Copy(h, src); err != nil {
		return "", fmt.Errorf("read the netlab binary %s: %w", self, err)
	}
	path := filepath.Join(InitDir, initPrefix+hex.EncodeToString(h.Sum(nil))[:16])
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return path, nil
	} else if err == nil && st.IsDir() {
		os.Remove(path) // the engine made an empty directory there for a bind whose source was gone
	}
	return installFrom(self, path)
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
		return "", fmt.Errorf("copy the netlab binary into %s: %w", InitDir, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy the netlab binary into %s: %w", InitDir, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("copy the netlab binary into %s: %w", InitDir, err)
	}
	return path, nil
}

// PruneInits removes the copies in InitDir that no container of any lab
// runs, unless an up holds the directory (the next down prunes then). It
// returns how many it removed.
func PruneInits(ctx context.Context, d *Docker) (int, error) {
	lock, err := os.OpenFile(filepath.Join(InitDir, ".lock"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return 0, nil // an up is installing or using one
	}
	list, err := d.List(ctx, "")
	if err != nil {
		return 0, err
	}
	used := map[string]bool{}
	for _, c := range list {
		used[c.Labels[naming.LabelInit]] = true
	}
	entries, err := os.ReadDir(InitDir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		path := filepath.Join(InitDir, e.Name())
		if !strings.HasPrefix(e.Name(), initPrefix) || used[path] {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// initGone tells whether a container's init binary (its LabelInit) has
// been removed, so that the container cannot start again: up makes it
// again.
func initGone(labels map[string]string) bool {
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
func RestoreInits(ctx context.Context, d *Docker, lab string) ([]string, error) {
	list, err := d.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range list {
		path := c.Labels[naming.LabelInit]
		if c.State != "running" || !initGone(c.Labels) {
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
