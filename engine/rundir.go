package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/netlab/netlab/naming"

	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/startgate"

	"golang.org/x/sys/unix"
)

// RunDir is where netlab keeps a lab's files on the host that must go
// with a reboot, as the lab's processes and namespaces do: ready files,
// forwarder pid files and logs, runc's state. It goes with the lab.
var RunDir = "/run/netlab"

// StateDir is where netlab keeps what a lab's nodes must keep across a
// reboot, on disk: on the runc runtime, each node's bundle with its own
// writable layer (StateDir/LAB/NODE), as Docker keeps its containers' in
// /var/lib/docker. A node restored after a reboot starts on the layer it
// had. It goes with the lab's down, or with netlab prune once the lab is
// neither up nor recorded for restore.
var StateDir = "/var/lib/netlab/labs"

// RemoveStateDir removes the lab's state directory (what is mounted under
// it first, so that nothing is deleted through a mount).
func RemoveStateDir(lab string) error {
	dir := filepath.Join(StateDir, lab)
	if err := unmountUnder(dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// StateLabs lists the labs that have a state directory.
func StateLabs() []string {
	entries, _ := os.ReadDir(StateDir)
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// A lab's run directory (RunDir/LAB) gets a few files per node: a ready
// file, its interfaces, forwarders' pid files. up makes them by the
// thousand and down removes them. That is work for a
// tmpfs, which /run is on most systems. Where RunDir is on a disk's file
// system instead (some VMs and containers), each lab's run directory is a
// tmpfs of its own: mounted when up makes the directory, unmounted by down.
// On a disk, a file system without a journal looks through the inodes
// freed in the last minutes before it gives out a new one (ext4's
// recently_deleted), so that an up after a down of the same size spends
// seconds per thousand nodes finding free inodes; and a tmpfs is gone
// after a reboot, as the lab's processes are.

// tmpfsName is the source of a lab's run directory's tmpfs in mountinfo.
func tmpfsName(lab string) string { return "netlab-" + lab }

// MakeRunDir makes the lab's run directory, on a tmpfs of its own where
// RunDir is not on one. A directory that exists is kept as it is (a lab
// that is up). Where the tmpfs cannot be mounted the directory stays on
// RunDir's file system, which only costs time.
func MakeRunDir(lab string) error {
	dir := filepath.Join(RunDir, lab)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab %s: make its run directory: %w", lab, err)
	}
	if onTmpfs(RunDir) {
		return nil
	}
	unix.Mount(tmpfsName(lab), dir, "tmpfs", 0, "mode=755")
	return nil
}

// onTmpfs tells whether dir is on a file system in memory.
func onTmpfs(dir string) bool {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false
	}
	return fs.Type == unix.TMPFS_MAGIC || fs.Type == unix.RAMFS_MAGIC
}

// RemoveRunDir removes the lab's run directory: what is mounted under it
// (runc nodes' roots, left by a failed run), then the tmpfs it is on, if it
// has its own, then the directory. With a mount that cannot be undone it
// keeps the directory, so that nothing is deleted through a mount.
func RemoveRunDir(lab string) error {
	dir := filepath.Join(RunDir, lab)
	if err := unmountUnder(dir); err != nil {
		return err
	}
	// EINVAL: not a mount point, the directory is on RunDir's file system.
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return os.RemoveAll(dir)
}

// GateDir is a lab's start gate (package startgate): two slot files per
// CPU, bound read-only into each of the lab's nodes at GatePath, so that
// its nodes take turns at their heavy start-up work. One per lab: a node
// can hold its gate's slots, and must slow no other lab.
func GateDir(lab string) string { return filepath.Join(RunDir, lab, ".gate") }

// PrepareGate makes a lab's start gate's slot files, before a node that
// binds it is made or started (after a reboot /run is empty). A lab with
// no name is refused: its gate would be the run directory's own, shared by
// every lab and removed by none.
func PrepareGate(lab string) error {
	if lab == "" {
		return fmt.Errorf("start gate: no lab name (a node's labels lack %s); run netlab down and up again", naming.LabelLab)
	}
	return startgate.Prepare(GateDir(lab), startgate.Slots())
}

// HoldGate holds a lab's start gate for an up's wiring: its nodes' starts
// wait until release is called (unless a node held the gate's hold file
// itself: the up then goes on without it, see startgate.Hold).
func HoldGate(lab string) (release func(), err error) {
	if err := PrepareGate(lab); err != nil {
		return nil, err
	}
	release, _, err = startgate.Hold(GateDir(lab))
	return release, err
}

// WriteReady releases a node's command: its init waits until this file
// holds its Instance: its network namespace and start time.
func WriteReady(lab, node, netnsID string) error {
	dir := RunDir + "/" + lab + "/" + node
	tmp := dir + "/." + ReadyFile
	if err := os.WriteFile(tmp, []byte(netnsID), 0o644); err != nil {
		return fmt.Errorf("write ready file of %s: %w", node, err)
	}
	return os.Rename(tmp, dir+"/"+ReadyFile)
}

// InterfacesFile lists, in a node's run directory, the interfaces the lab
// put in it, one a line: status reports those that went missing (a veth
// goes whole when either end is deleted, so nothing else would show it).
const InterfacesFile = "interfaces"

// WriteInterfaces records the names of the interfaces the lab puts in a
// node, when they differ from those recorded.
func WriteInterfaces(lab, node string, names []string) error {
	file := filepath.Join(RunDir, lab, node, InterfacesFile)
	want := strings.Join(names, "\n")
	if have, err := os.ReadFile(file); err == nil && string(have) == want {
		return nil
	}
	if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
		return fmt.Errorf("record the interfaces of %s: %w", node, err)
	}
	return nil
}

// Interfaces reads what WriteInterfaces recorded.
func Interfaces(lab, node string) []string {
	b, err := os.ReadFile(filepath.Join(RunDir, lab, node, InterfacesFile))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// unmountUnder unmounts what is mounted under dir (the overlay roots of
// nodes whose removal failed), so that removing dir never reaches into
// an image.
func unmountUnder(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var errs []error
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := rootfs.UnescapeMount(f[4])
		if strings.HasPrefix(p, dir+"/") {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Mounted tells whether dir is a mount point (another device than its parent).
func Mounted(dir string) bool {
	var a, b unix.Stat_t
	if unix.Lstat(dir, &a) != nil || unix.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}
