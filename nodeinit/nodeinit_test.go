package nodeinit

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReadyWatch: the wait ends when a file is written in the directory,
// with no timeout; with one, it ends without an event.
func TestReadyWatch(t *testing.T) {
	dir := t.TempDir()
	wait, stop := readyWatch(dir)
	defer stop()
	done := make(chan struct{})
	go func() {
		wait(0)
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("the wait ended before anything changed")
	default:
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not end when a file was written")
	}
	ended := make(chan struct{})
	go func() {
		wait(20 * time.Millisecond)
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait with a timeout did not end without an event")
	}
}
