package nodeinit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// superviseAsync runs supervise on sh -c script and returns its exit
// status on a channel, and the channel it takes signals from.
func superviseAsync(t *testing.T, script string) (<-chan int, chan<- os.Signal) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	sigs := make(chan os.Signal, 1)
	code := make(chan int, 1)
	go func() { code <- supervise(sh, []string{"sh", "-c", script}, sigs, io.Discard, nil) }()
	return code, sigs
}

// waitFile waits for a file to hold a line and returns it.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && bytes.HasSuffix(data, []byte("\n")) {
			return strings.TrimSpace(string(data))
		}
	}
	t.Fatalf("%s was not written within 10 s", path)
	return ""
}

// TestSuperviseReapsOrphans: a command's child that forks a daemon and
// exits leaves the daemon to the init (here the test process, a child
// subreaper as a namespace's PID 1 is); once the daemon ends, nothing of
// it stays as a zombie. The command's own exit code is the result.
func TestSuperviseReapsOrphans(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a child subreaper: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	pidFile := filepath.Join(t.TempDir(), "daemon.pid")
	code, _ := superviseAsync(t, `sh -c 'sleep 1 & echo $! > `+pidFile+`'; sleep 2; exit 3`)
	daemon, _ := strconv.Atoi(waitFile(t, pidFile))
	// The daemon's parent, its shell, has exited: the daemon is ours now.
	adopted := false
	for deadline := time.Now().Add(900 * time.Millisecond); time.Now().Before(deadline) && !adopted; time.Sleep(10 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(daemon) + "/stat")
		if err != nil {
			break
		}
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		adopted = len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid())
	}
	if !adopted {
		t.Fatalf("the daemon (pid %d) was not handed to the test process: the test cannot see reaping", daemon)
	}
	select {
	case c := <-code:
		if c != 3 {
			t.Errorf("supervise returned %d, want the command's exit code 3", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("supervise did not return when the command ended")
	}
	var ws unix.WaitStatus
	got, err := unix.Wait4(daemon, &ws, unix.WNOHANG, nil)
	if got == daemon {
		t.Errorf("the daemon (pid %d) ended but was left a zombie", daemon)
	} else if !errors.Is(err, unix.ECHILD) {
		t.Errorf("wait for the daemon (pid %d): %d, %v; want ECHILD (reaped)", daemon, got, err)
	}
}

// TestSuperviseForwardsSignals: a signal to the init reaches the command;
// the init ends with the command's status, its code or 128 plus the
// signal that killed it.
func TestSuperviseForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	code, sigs := superviseAsync(t, `trap 'exit 7' USR1; echo > `+dir+`/trapped; while :; do sleep 0.05; done`)
	waitFile(t, dir+"/trapped")
	sigs <- syscall.SIGUSR1
	select {
	case c := <-code:
		if c != 7 {
			t.Errorf("after SIGUSR1 the init returned %d, want 7 (the command's trap)", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR1 did not reach the command")
	}
	code, sigs = superviseAsync(t, `echo > `+dir+`/started; exec sleep 60`)
	waitFile(t, dir+"/started")
	sigs <- syscall.SIGTERM
	select {
	case c := <-code:
		if c != 128+int(syscall.SIGTERM) {
			t.Errorf("after SIGTERM the init returned %d, want %d", c, 128+int(syscall.SIGTERM))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not reach the command")
	}
}

// TestSuperviseCannotRun: a command that cannot start is 127 (not found)
// or 126 (not runnable), as in a shell.
func TestSuperviseCannotRun(t *testing.T) {
	dir := t.TempDir()
	if c := supervise(filepath.Join(dir, "none"), []string{"none"}, nil, io.Discard, nil); c != exitNotFound {
		t.Errorf("missing command: %d, want %d", c, exitNotFound)
	}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("not a program"), 0o644)
	if c := supervise(plain, []string{"plain"}, nil, io.Discard, nil); c != exitNoExec {
		t.Errorf("command not executable: %d, want %d", c, exitNoExec)
	}
}
