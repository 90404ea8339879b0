package nodeexec

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests run a stand-in init: this test binary again, as PID 1 of new
// PID and network namespaces, serving as netlab-init does and reaping
// what ends under it.
func TestMain(m *testing.M) {
	if os.Getenv("NODEEXEC_TEST_INIT") == "1" {
		standInInit()
		return
	}
	os.Exit(m.Run())
}

func standInInit() {
	s, err := Listen(os.Stderr)
	if err != nil {
		os.Stderr.WriteString("listen: " + err.Error() + "\n")
		os.Exit(1)
	}
	go s.Serve()
	// A process of the node asks too: it must be refused (no answer).
	go func() {
		c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: SocketName, Net: "unixpacket"})
		if err != nil {
			return
		}
		defer c.Close()
		// The init is PID 1 here, the caller too (the same process), so
		// its pid shows: refused, the connection closes unanswered.
		_, _, err = c.WriteMsgUnix([]byte(`{"argv":["true"]}`), nil, nil)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := c.Read(make([]byte, 64))
		if err == nil && n > 0 {
			os.WriteFile(os.Getenv("NODEEXEC_TEST_REFUSED"), []byte("answered"), 0o644)
			return
		}
		os.WriteFile(os.Getenv("NODEEXEC_TEST_REFUSED"), []byte("refused"), 0o644)
	}()
	os.Stdout.WriteString("ready\n")
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECHILD) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.Reaped(pid, ws)
	}
}

func startInit(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes PID and network namespaces")
	}
	refused := t.TempDir() + "/refused"
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "NODEEXEC_TEST_INIT=1", "NODEEXEC_TEST_REFUSED="+refused)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the stand-in init did not start: %q %v", buf, err)
	}
	t.Cleanup(func() {
		for range 100 {
			if data, err := os.ReadFile(refused); err == nil {
				if string(data) != "refused" {
					t.Errorf("a process of the node got an answer from the init")
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("the node's own request never ended")
	})
	return cmd.Process.Pid
}

func TestRun(t *testing.T) {
	pid := startInit(t)
	ctx := context.Background()
	run := func(in string, argv ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		var r *strings.Reader
		if in != "" {
			r = strings.NewReader(in)
		}
		var code int
		var err error
		if r != nil {
			code, err = Run(ctx, pid, argv, r, &out, &errb)
		} else {
			code, err = Run(ctx, pid, argv, nil, &out, &errb)
		}
		if err != nil {
			t.Fatalf("Run %q: %v", argv, err)
		}
		return out.String(), errb.String(), code
	}
	// The command is the init's child (PID 1 of its namespace), in its
	// network namespace (no interface but lo).
	if out, _, code := run("", "sh", "-c", `echo out; echo err >&2; echo parent $PPID; cat /proc/self/net/dev; exit 3`); code != 3 || strings.Contains(out, "eth0") || !strings.Contains(out, "out\nparent 1\n") {
		t.Errorf("sh: exit %d, output %q (the init: %d)", code, out, pid)
	}
	if _, errs, _ := run("", "sh", "-c", "echo err >&2"); errs != "err\n" {
		t.Errorf("standard error %q", errs)
	}
	if out, _, code := run("hello\nthere\n", "cat"); code != 0 || out != "hello\nthere\n" {
		t.Errorf("cat of the input: exit %d, %q", code, out)
	}
	if out, _, code := run("", "cat"); code != 0 || out != "" {
		t.Errorf("cat of no input: exit %d, %q", code, out)
	}
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB: more than a pipe holds
	if out, _, _ := run(big, "cat"); out != big {
		t.Errorf("cat of 256 KiB gave %d bytes", len(out))
	}
	if _, errs, code := run("", "no-such-command"); code != 127 || !strings.Contains(errs, "no-such-command") {
		t.Errorf("a command not in the node: exit %d, %q", code, errs)
	}
	if _, _, code := run("", "sh", "-c", "kill -TERM $$"); code != 128+15 {
		t.Errorf("a command killed by SIGTERM: exit %d", code)
	}
	// One writer for both streams: writes take turns.
	var both bytes.Buffer
	if code, err := Run(ctx, pid, []string{"sh", "-c", "for i in $(seq 200); do echo out; echo err >&2; done"}, nil, &both, &both); err != nil || code != 0 || both.Len() != 200*8 {
		t.Errorf("one writer for both streams: exit %d, %v, %d bytes, want %d", code, err, both.Len(), 200*8)
	}
	// A process left behind holding the output does not hold Run.
	start := time.Now()
	if out, _, code := run("", "sh", "-c", "sleep 30 & echo left"); code != 0 || out != "left\n" {
		t.Errorf("a command leaving a process: exit %d, %q", code, out)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Run waited %s for a process the command left", d)
	}
}

func TestRunCancelKills(t *testing.T) {
	pid := startInit(t)
	mark := "/tmp/nodeexec-test-" + time.Now().Format("150405.000000000")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, pid, []string{"sh", "-c", "sleep 2; touch " + mark}, nil, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run past its context: %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		os.Remove(mark)
		t.Errorf("the command went on after its context ended")
	}
}

func TestUnavailable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// This process's own namespace has no init listening; a pid that does
	// not exist has no namespace.
	if _, err := Run(context.Background(), os.Getpid(), []string{"true"}, nil, nil, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no listener: %v", err)
	}
	if _, err := Run(context.Background(), 1<<30, []string{"true"}, nil, nil, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("no such process: %v", err)
	}
}
