package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestWatchArgsRoundTrip(t *testing.T) {
	lab, file, pid, err := WatchArgs(watchArgs("l1", "/labs/a b.yaml", "/run/netlab/l1/watch.pid"))
	if err != nil || lab != "l1" || file != "/labs/a b.yaml" || pid != "/run/netlab/l1/watch.pid" {
		t.Errorf("got %q %q %q %v", lab, file, pid, err)
	}
	if _, _, _, err := WatchArgs([]string{"--lab", "l1", "--bogus"}); err == nil {
		t.Error("an unknown flag was taken")
	}
}

// A failed repair is tried again until it succeeds, retries times at
// most; a final failure (the file no longer loads, a node ended at start)
// is not; a start after the retries gave up tries again.
func TestRewireRetries(t *testing.T) {
	old := retryFirst
	retryFirst = time.Millisecond
	t.Cleanup(func() { retryFirst = old })
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		fails int   // repairs that fail before one succeeds
		err   error // what they fail with
		kicks int
		want  int32 // repairs run
	}{
		{"succeeds", 0, errors.New("x"), 1, 1},
		{"mended by a retry", 2, errors.New("remove stale port_ZURI: no such device"), 1, 3},
		{"gives up", 100, errors.New("x"), 1, 1 + retries},
		{"a start tries again", 100, errors.New("x"), 2, 2 * (1 + retries)},
		{"final", 100, &FinalError{errors.New("the file does not load")}, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var runs atomic.Int32
			done := make(chan struct{}, 100)
			repair := func(context.Context) error {
				defer func() { done <- struct{}{} }()
				if runs.Add(1) <= int32(c.fails) {
					return c.err
				}
				return nil
			}
			kick := make(chan struct{}, 1)
			go rewire(ctx, "l1", file, kick, repair)
			for k := 0; k < c.kicks; k++ {
				kick <- struct{}{}
				for want := (int32(k) + 1) * c.want / int32(c.kicks); runs.Load() < want; {
					select {
					case <-done:
					case <-time.After(10 * time.Second):
						t.Fatalf("%d repairs after 10 s, want %d", runs.Load(), want)
					}
				}
			}
			time.Sleep(300 * time.Millisecond) // the retries it should not make
			if got := runs.Load(); got != c.want {
				t.Errorf("%d repairs, want %d", got, c.want)
			}
		})
	}
}
