package engine

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write and read at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunOnPTY: a command run with a TTY and Resize sees a terminal of
// the size waiting when it starts, then of the next size sent, reads its input from In and
// writes to Out with the terminal's line endings.
func TestRunOnPTY(t *testing.T) {
	if _, err := exec.LookPath("stty"); err != nil {
		t.Skip("no stty")
	}
	in, inw := io.Pipe()
	var out syncBuffer
	resize := make(chan WindowSize, 1)
	resize <- WindowSize{Cols: 100, Rows: 30}
	cmd := exec.Command("sh", "-c", "test -t 0 && echo tty; stty size; read line; echo got $line; stty size; exit 7")
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := RunCommand(cmd, Stdio{In: in, Out: &out, TTY: true, Resize: resize})
		done <- result{code, err}
	}()
	waitFor(t, &out, "30 100")
	resize <- WindowSize{Cols: 132, Rows: 43}
	time.Sleep(100 * time.Millisecond) // the size is set before the line arrives
	io.WriteString(inw, "hello\n")
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the command did not end; it printed %q", out.String())
	}
	if r.err != nil || r.code != 7 {
		t.Fatalf("exit %d, %v", r.code, r.err)
	}
	got := out.String()
	for _, want := range []string{"tty\r\n", "30 100\r\n", "got hello\r\n", "43 132\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
}

func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
