package runc

import (
	"bytes"
	"context"
	"errors"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watch is the watcher of a lab on the runc runtime, where no engine
// restarts a node or reports its end: it holds a pidfd of each running
// node's process (readable once the process ends, child or not) and asks
// for a rewiring on kick (netlab up starts the node again) when one ends,
// as Docker's restart policy and the engine's start event do together. A
// node stopped on purpose (netlab stop: its stopped mark) is left down.
// Nothing polls: it sleeps in poll(2) on the pidfds and on inotify of
// runc's state directory, which tells it of nodes started, made or
// removed. since is not needed: a node that ended before is down now.
// runc's state directory is every lab's: an event there of another lab's
// container wakes it only to read the event (30 labs starting at once
// made 30 watchers read every lab's states at each container made).
func (r *Runc) Watch(ctx context.Context, lab string, since time.Time, kick chan<- struct{}) error {
	ino, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	defer unix.Close(ino)
	if err := os.MkdirAll(r.root, 0o700); err != nil {
		return err
	}
	const events = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE
	rootWatch, err := unix.InotifyAddWatch(ino, r.root, events)
	if err != nil {
		return err
	}
	// Wake from poll when ctx ends.
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(stop)
	go func() {
		<-ctx.Done()
		unix.Write(stop, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}()
	buf := make([]byte, 64*1024)
	for ctx.Err() == nil {
		// Watches first, then states: a state written in between is seen.
		dirs, _ := filepath.Glob(filepath.Join(r.root, lab+"_*"))
		for _, d := range dirs {
			unix.InotifyAddWatch(ino, d, events)
		}
		list, err := r.List(ctx, lab)
		if err != nil {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(stop), Events: unix.POLLIN}, {Fd: int32(ino), Events: unix.POLLIN}}
		var nodes []string
		for _, c := range list {
			pid, _ := r.process(c.ID)
			if pid == 0 {
				continue
			}
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // ended meanwhile: its state's change wakes us
			}
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
			nodes = append(nodes, c.Node)
		}
		for {
			_, err = unix.Poll(fds, -1)
			if err != nil || fds[0].Revents != 0 || slices.ContainsFunc(fds[2:], func(f unix.PollFd) bool { return f.Revents != 0 }) ||
				ours(ino, rootWatch, lab, buf) {
				break
			}
		}
		ended := []string{}
		for i, f := range fds[2:] {
			if f.Revents != 0 {
				ended = append(ended, nodes[i])
			}
			unix.Close(int(f.Fd))
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		for { // drain: every round reads the states again
			if n, _ := unix.Read(ino, buf); n <= 0 {
				break
			}
		}
		var restart []string
		for _, node := range ended {
			if _, err := os.Stat(filepath.Join(bundle(lab, node), stoppedMark)); err == nil {
				log.Printf("node %s stopped (netlab stop): left down", node)
				continue
			}
			restart = append(restart, node)
		}
		if len(restart) > 0 {
			log.Printf("node %s ended; starting and rewiring", strings.Join(restart, ", "))
			select {
			case kick <- struct{}{}:
			default: // a rewiring is due already
			}
		}
	}
	return nil
}

// ours reads the inotify events waiting on ino and tells whether one may
// concern the lab: a container's state written or removed in a directory
// of its containers, or the directory gone, an overflow (some were lost),
// or one in runc's state directory (rootWatch) naming a container of the
// lab (LAB_NODE).
func ours(ino, rootWatch int, lab string, buf []byte) bool {
	found := false
	for {
		n, _ := unix.Read(ino, buf)
		if n <= 0 {
			return found
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			e := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : min(n, off+unix.SizeofInotifyEvent+int(e.Len))]
			file := string(bytes.TrimRight(name, "\x00"))
			switch {
			case e.Mask&(unix.IN_Q_OVERFLOW|unix.IN_IGNORED) != 0:
				found = true // events lost, or a container's directory gone
			case int(e.Wd) == rootWatch:
				found = found || strings.HasPrefix(file, lab+"_")
			default:
				// In a container's directory, its state only: each runc
				// exec writes and deletes a file of its own there, and a
				// lab's checks and matrix run hundreds of them (a wake
				// reads every node's state: 30 ASes' matrix polls cost
				// the watcher 83 CPU-s).
				found = found || file == "state.json"
			}
			off += unix.SizeofInotifyEvent + int(e.Len)
		}
	}
}
