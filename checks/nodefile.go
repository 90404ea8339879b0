package checks

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// MaxNodeFile is the most bytes read of a node's file (its resolv.conf).
const MaxNodeFile = 1 << 20

// ReadNodeFile reads a file of a running node's file system, path as the
// node sees it, through /proc/PID/root: resolved inside the node's root
// (openat2 RESOLVE_IN_ROOT), so that an absolute link in the node, such as
// /etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf or -> /etc/shadow,
// leads to the node's file and never to the machine's; only a regular file,
// and at most limit bytes.
func ReadNodeFile(pid int, path string, limit int64) ([]byte, error) {
	return ReadInRoot(filepath.Join("/proc", strconv.Itoa(pid), "root"), path, limit)
}

// ReadInRoot reads path resolved with root as "/": links, absolute or
// with "..", cannot leave root, and /proc's magic links are refused.
func ReadInRoot(root, path string, limit int64) ([]byte, error) {
	dirfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the node's root %s: %w", root, err)
	}
	defer unix.Close(dirfd)
	fd, err := unix.Openat2(dirfd, path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if errors.Is(err, unix.EXDEV) {
		// A bind mount inside the node (Docker mounts resolv.conf): allow
		// crossing mounts, still inside the root.
		fd, err = unix.Openat2(dirfd, path, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file (%s)", st.Mode().Type())}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("more than the %d bytes read of it", limit)}
	}
	return data, nil
}
