package hostproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netlab/netlab/engine"
)

// Args reads a process's command line without the program name.
func Args(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil
	}
	args := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	return args[1:]
}

// Runs tells whether process pid runs the program file is: the same file,
// not a copy of it nor a file since replaced at that path.
func Runs(pid int, file string) bool {
	exe, err := os.Stat(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	f, err := os.Stat(file)
	return err == nil && os.SameFile(exe, f)
}

// Start starts a detached netlab helper process (a forwarder or a
// relay) that writes pidFile once it serves, and waits until it does. Its
// output goes to a log beside the pid file.
func Start(pidFile, self string, args ...string) error {
	os.Remove(pidFile)
	logFile := strings.TrimSuffix(pidFile, ".pid") + ".log"
	logw, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logw.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(5 * time.Second)
	for {
		if _, ok := Running(pidFile); ok {
			return nil
		}
		select {
		case <-exited:
			msg, _ := os.ReadFile(logFile)
			return fmt.Errorf("%s failed: %s", args[0], lastLine(string(msg)))
		case <-deadline:
			return fmt.Errorf("%s did not start in 5s; see %s", args[0], logFile)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Running reads a pid file and tells whether that process still runs.
func Running(file string) (int, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid)
}

// processAlive tells whether process pid runs. A zombie does not: where the
// host's pid 1 is slow to reap (some VMs and containers), a stopped helper
// stays one for a while.
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')') // "pid (comm) state ..."; comm may hold anything
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// StopAll stops every helper process of the lab: forwarders, relays.
func StopAll(lab string) error {
	files, _ := filepath.Glob(filepath.Join(engine.RunDir, lab, "*.pid"))
	for _, f := range files {
		if pid, ok := Running(f); ok {
			if err := Stop(pid, f); err != nil {
				return err
			}
		}
		os.Remove(f)
	}
	return nil
}

// Stop stops the helper with pid (of pidFile) and waits, up to a second,
// until it has let go of its port.
func Stop(pid int, pidFile string) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop helper %d (%s): %w", pid, filepath.Base(pidFile), err)
	}
	for i := 0; i < 100; i++ {
		if !processAlive(pid) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func waitGone(pid int) {
	for i := 0; i < 100 && processAlive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// CloseOnExec marks every file descriptor above standard error that this
// process inherited close-on-exec, so that the helper processes it starts,
// which outlive it, do not hold its caller's files open (a lock file the
// caller holds would stay locked for as long as the lab runs). Go opens its
// own files close-on-exec already.
func CloseOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
