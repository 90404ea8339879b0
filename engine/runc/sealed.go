package runc

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// runc copies its own binary into a sealed memory file before each
// container's init (its defence against a container that would overwrite
// the runc binary through /proc/self/exe, CVE-2019-5736), unless the
// binary it runs from is such a file already: 10 MB copied and a second
// exec for every node started and every exec in a node. netlab makes that
// copy once per process and runs runc from it, with the seals runc checks
// for; runc then skips its own. Where the kernel cannot (no memfd), runc
// runs from its path and copies as usual.

// sealedRuncSeals are the seals runc takes as its own copy (its
// RUNC_MEMFD_SEALS): nothing can be added, written, grown or shrunk.
const sealedRuncSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// sealedCopy copies the binary at path into a sealed memory file and
// returns the file (kept open: the path to run is /proc/PID/fd/N while it
// is).
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("runc", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:runc")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s: %w", path, err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, sealedRuncSeals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal the copy of %s: %w", path, err)
	}
	return f, nil
}

// starter is the path to run runc from for a command that starts a
// process in a node (run, exec): its sealed copy, made at the first call,
// or its path where that failed.
func (r *Runc) starter() string {
	r.sealOnce.Do(func() {
		if f, err := sealedCopy(r.bin); err == nil {
			r.sealed = f
		}
	})
	if r.sealed == nil {
		return r.bin
	}
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), r.sealed.Fd())
}
