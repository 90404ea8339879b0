package runc

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A watcher wakes for its own lab's containers only: another lab's
// container made in runc's state directory is read and let go.
func TestOursTellsTheLabsEvents(t *testing.T) {
	root := t.TempDir()
	ino, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ino)
	const events = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE
	rootWatch, err := unix.InotifyAddWatch(ino, root, events)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64*1024)
	if ours(ino, rootWatch, "lab", buf) {
		t.Errorf("no event, yet ours")
	}
	for _, other := range []string{"other_h1", "lab-2_h1", "labx_h1"} {
		os.Mkdir(filepath.Join(root, other), 0o700)
	}
	if ours(ino, rootWatch, "lab", buf) {
		t.Errorf("other labs' containers woke lab's watcher")
	}
	mine := filepath.Join(root, "lab_h1")
	os.Mkdir(mine, 0o700)
	os.Mkdir(filepath.Join(root, "other_h2"), 0o700)
	if !ours(ino, rootWatch, "lab", buf) {
		t.Errorf("the lab's own container made did not wake its watcher")
	}
	if ours(ino, rootWatch, "lab", buf) {
		t.Errorf("the events were not all read")
	}
	if _, err := unix.InotifyAddWatch(ino, mine, events); err != nil {
		t.Fatal(err)
	}
	// runc exec's own file in the directory is no state of the node.
	os.WriteFile(filepath.Join(mine, "runc.wV10rh"), []byte("{}"), 0o600)
	os.Remove(filepath.Join(mine, "runc.wV10rh"))
	if ours(ino, rootWatch, "lab", buf) {
		t.Errorf("runc exec's file woke the watcher")
	}
	os.WriteFile(filepath.Join(mine, "state.json"), []byte("{}"), 0o600)
	if !ours(ino, rootWatch, "lab", buf) {
		t.Errorf("a state written in the lab's container's directory did not wake its watcher")
	}
}
