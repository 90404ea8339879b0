package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
)

// WatchBridges sends on kick (never blocking) whenever one of the lab's
// network bridges is deleted from the host, until ctx ends: a switch
// pulled out from under a running lab, which an up of its file makes
// again. Nodes that start again are their runtime's to report.
//
// Every lab's watcher follows the host's interfaces, and a class of labs
// coming up makes thousands of interface changes: the kernel hands this
// socket interface deletions only (a socket filter), so that the other
// changes wake no watcher.
func WatchBridges(ctx context.Context, lab string, kick chan<- struct{}) error {
	f, err := linkDeletions()
	if err != nil {
		return fmt.Errorf("follow the host's interfaces: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer func() {
		if stop() {
			f.Close()
		}
	}()
	prefix := naming.BridgeAlias(lab, "")
	buf := make([]byte, 1<<16)
	for {
		n, err := f.Read(buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("follow the host's interfaces: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("follow the host's interfaces: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_DELLINK {
				continue
			}
			l, err := netlink.LinkDeserialize((*unix.NlMsghdr)(&m.Header), m.Data)
			if err != nil || !strings.HasPrefix(l.Attrs().Alias, prefix) {
				continue
			}
			select {
			case kick <- struct{}{}:
			default:
			}
		}
	}
}

// linkDeletions opens a netlink socket on the host's interface changes
// (RTMGRP_LINK) whose filter lets only RTM_DELLINK messages through: the
// kernel sends each change as a message of its own, and a filtered one
// is dropped before it reaches the socket. It is read through Go's poller
// (non-blocking), so that closing it ends a read.
func linkDeletions() (*os.File, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	// nlmsg_type is at offset 4, in the host's byte order; BPF loads a
	// half word in network byte order.
	var typ [2]byte
	binary.NativeEndian.PutUint16(typ[:], unix.RTM_DELLINK)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 4},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: uint32(binary.BigEndian.Uint16(typ[:]))},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("filter for interface deletions: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "netlink link deletions")
	if f == nil {
		return nil, errors.New("netlink socket: not a file")
	}
	return f, nil
}
