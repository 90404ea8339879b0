package wire

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// inotifyInstances is the host's limit of inotify instances per user; every
// node's init holds one while it waits to be wired, and all nodes run as
// root on the host, so that one limit counts them all.
const inotifyInstances = "/proc/sys/fs/inotify/max_user_instances"

// EnsureInotify raises the host's inotify instance limit when it is too low
// for nodes waiting at once (plus 64 for the host's own users): above
// the limit a node's init falls back to polling every 50 ms, and a
// thousand polling nodes made a 1,000-node up several times slower.
// It returns the old and new limit when it raised it.
func EnsureInotify(nodes int) (from, to int, err error) {
	b, err := os.ReadFile(inotifyInstances)
	if err != nil {
		return 0, 0, nil // no such limit here
	}
	have, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, 0, nil
	}
	if have >= nodes+64 { // labs of up to 64 nodes never touch it
		return 0, 0, nil
	}
	want := max(2*nodes, 1024)
	if err := os.WriteFile(inotifyInstances, []byte(strconv.Itoa(want)), 0o644); err != nil {
		return 0, 0, fmt.Errorf("raise fs.inotify.max_user_instances from %d to %d (each waiting node holds one): %w", have, want, err)
	}
	return have, want, nil
}
