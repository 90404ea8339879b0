package lab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/engine"
)

// e2eManager opens a Manager on a netlab built for the test (helpers and
// nodes run it), or skips without root and the netlab/tiny image; with
// NETLAB_E2E=1 (CI) it fails instead.
func e2eManager(t *testing.T) *Manager {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	} else if err := exec.Command("docker", "image", "inspect", "netlab/tiny").Run(); err != nil {
		why = "no Docker engine or no netlab/tiny image"
	}
	if why != "" && os.Getenv("NETLAB_E2E") == "1" {
		t.Fatalf("the lifecycle's end-to-end test cannot run: %s", why)
	}
	if why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir, "../cmd/netlab", "../cmd/netlab-init")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build netlab: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := Open(ctx, Options{Binary: filepath.Join(dir, "netlab")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestLifecycleInProcess drives a lab through the API alone: two ups of
// it at once from two goroutines (the lock inside makes them one after
// the other), checks reported as they complete, exec, status, down.
func TestLifecycleInProcess(t *testing.T) {
	m := e2eManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := fmt.Sprintf("labapi%d", os.Getpid()%10000)
	file := filepath.Join(t.TempDir(), "lab.yaml")
	body := fmt.Sprintf(`name: %s
defaults: {image: netlab/tiny}
networks: {lan: {subnet: 10.9.0.0/24}}
nodes:
  a: {interfaces: {eth0: {network: lan, address: 10.9.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, address: 10.9.0.2/24}}}
checks:
  - {from: a, ping: b}
  - {from: b, ping: 10.9.0.1}
`, name)
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Down(context.Background(), name, DownOptions{}) })
	l, _, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := UpOptions{NoWatch: true, Runtime: os.Getenv("NETLAB_RUNTIME")}

	var wg sync.WaitGroup
	results := make([]*UpResult, 2)
	errs := make([]error, 2)
	var mu sync.Mutex
	var steps, last Event
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := opts
			o.Progress = func(e Event) {
				mu.Lock()
				defer mu.Unlock()
				if e.Kind == EventStep {
					steps.N++
					last = e
				}
			}
			results[i], errs[i] = m.Up(ctx, l, o)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("up %d: %v", i, err)
		}
	}
	// One up made the lab; the other, waiting for the lock, found it made.
	if results[0].UpToDate() == results[1].UpToDate() {
		t.Errorf("two ups at once: up to date %v and %v, want one that made the lab and one that found it made",
			results[0].UpToDate(), results[1].UpToDate())
	}
	if last.Total == 0 || steps.N != 2*last.Total {
		t.Errorf("%d step events for two ups of %d steps", steps.N, last.Total)
	}

	var done []string
	r, err := m.Check(ctx, name, CheckOptions{Done: func(i int, r checks.Result) { done = append(done, r.Name) }})
	if err != nil || r.Failed() != 0 || len(done) != 2 {
		t.Errorf("check: %v, %d failed, results seen as they came: %v", err, r.Failed(), done)
	}
	var out bytes.Buffer
	code, err := m.Exec(ctx, name, "a", []string{"sh", "-c", "ip -4 -o addr show eth0"}, Stdio{Out: &out, Err: &out})
	if err != nil || code != 0 || !bytes.Contains(out.Bytes(), []byte("10.9.0.1/24")) {
		t.Errorf("exec: code %d, %v: %s", code, err, out.String())
	}
	terminal(t, ctx, m, name, "b")
	packets(t, ctx, m, name)
	if _, err := m.Exec(ctx, name, "c", []string{"true"}, Stdio{}); !IsUsage(err) {
		t.Errorf("exec on a node the lab lacks: %v, want a usage error", err)
	}
	st, err := m.Status(ctx, name)
	if err != nil || len(st.Nodes) != 2 || st.Nodes[0].State != "running" || !st.Nodes[0].Ready {
		t.Errorf("status: %v %+v", err, st)
	}
	d, err := m.Down(ctx, name, DownOptions{})
	if err != nil || d.Containers != 2 {
		t.Errorf("down: %v, %+v", err, d)
	}
	list, err := m.List(ctx)
	for _, s := range list {
		if s.Lab == name {
			t.Errorf("lab %s still listed after down: %+v (%v)", name, s, err)
		}
	}
}

// terminal runs a shell on the node on a terminal of netlab's making, as
// the class server's web terminal does, and resizes it half-way: the
// shell sees both sizes.
func terminal(t *testing.T, ctx context.Context, m *Manager, lab, node string) {
	t.Helper()
	in, inw := io.Pipe()
	defer inw.Close()
	out := &lockedBuffer{}
	resize := make(chan engine.WindowSize, 1)
	resize <- engine.WindowSize{Cols: 100, Rows: 30}
	done := make(chan error, 1)
	// docker exec sizes the node's terminal just after its command
	// started: hence the sleep before the first stty.
	go func() {
		code, err := m.Exec(ctx, lab, node, []string{"sh", "-c", "sleep 0.5; stty size; read x; stty size"},
			Stdio{In: in, Out: out, TTY: true, Resize: resize})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit %d", code)
		}
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "30 100") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	resize <- engine.WindowSize{Cols: 132, Rows: 43}
	time.Sleep(200 * time.Millisecond) // the size is set before the line comes
	io.WriteString(inw, "\n")
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "30 100") || !strings.Contains(out.String(), "43 132") {
			t.Errorf("terminal on %s: %v; it showed %q, want the sizes 30 100 then 43 132", node, err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("terminal on %s: the shell did not end; it showed %q", node, out.String())
	}
}

// lockedBuffer is a bytes.Buffer written and read at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// packets watches a:eth0 frame by frame, as the class server's packet
// view does, while a pings b: an ICMP frame comes, with its summary line.
func packets(t *testing.T, ctx context.Context, m *Manager, lab string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := make(chan capture.Frame, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- m.Capture(ctx, capture.Options{Lab: lab, Target: "a:eth0", Frames: func(f capture.Frame) error {
			if strings.Contains(f.Summary, "IP 10.9.0.1 > 10.9.0.2: ICMP") {
				seen <- f
				cancel()
			}
			return nil
		}}, io.Discard, io.Discard)
	}()
	for ctx.Err() == nil { // until the capture, started meanwhile, sees one
		m.Exec(ctx, lab, "a", []string{"ping", "-c1", "-W1", "10.9.0.2"}, Stdio{})
	}
	select {
	case f := <-seen:
		if f.Length < 98 || len(f.Data) != f.Length {
			t.Errorf("ICMP frame: length %d, %d bytes, %q", f.Length, len(f.Data), f.Summary)
		}
	default:
		t.Errorf("no ICMP frame seen on a:eth0 in 30 s: %v", <-errc)
	}
}
