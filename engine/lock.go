package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// LockLab takes the lab's lock (a file beside the run directories, which
// down removes while it holds it), so that the commands that change a lab
// (up, the watcher's up, down) run one at a time. When another holds it,
// waiting is called once with who ("netlab up (pid 123)") and LockLab
// waits. what names this command in the lock for the next one.
func LockLab(lab, what string, waiting func(holder string)) (unlock func(), err error) {
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(RunDir, "."+lab+".lock")
	_, statErr := os.Stat(file)
	created := os.IsNotExist(statErr)
	told := false
	for {
		f, err := os.OpenFile(file, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock lab %s: %w", lab, err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if !told && waiting != nil {
				holder, _ := os.ReadFile(file)
				waiting(strings.TrimSpace(string(holder)))
				told = true
			}
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock lab %s: %w", lab, err)
		}
		// A down that held it removed the file: this lock is on a file
		// nobody else will open again. Take the new one.
		if !sameFile(f, file) {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(fmt.Sprintf("netlab %s (pid %d)\n", what, os.Getpid())), 0)
		return func() {
			// A lock file this command made for a lab that it left
			// without a run directory (an up that failed before it made
			// anything) goes, as down's does: nothing of the lab stays.
			if _, err := os.Stat(filepath.Join(RunDir, lab)); created && os.IsNotExist(err) && sameFile(f, file) {
				os.Remove(file)
			}
			f.Close()
		}, nil
	}
}

// sameFile tells whether path is still the file open as f.
func sameFile(f *os.File, path string) bool {
	var held, now syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &now) == nil && held.Ino == now.Ino && held.Dev == now.Dev
}
