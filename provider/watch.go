package provider

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/runtimes"
	"github.com/netlab/netlab/wire"
)

// A lab stays wired by itself: up starts one watcher process per lab
// (netlab _watch), detached from the terminal, which follows the Docker
// engine's event stream for the lab's containers and, when one starts
// (docker restart, docker stop + start, netlab start), runs netlab up on
// the lab's file, which rewires it and releases its command. Nothing polls.
// Chosen over one host-wide watcher: a lab's watcher lives and dies with
// the lab (down stops it with the other helpers), its log is in the lab's
// run directory, and one broken lab file cannot stop the others' repairs.

// WatcherRunning tells whether the lab's watcher runs, and its pid.
func WatcherRunning(lab string) (int, bool) {
	return hostproc.Running(filepath.Join(engine.RunDir, lab, naming.WatcherPid))
}

// WatcherLog is the watcher's log file.
func WatcherLog(lab string) string {
	return filepath.Join(engine.RunDir, lab, "watch.log")
}

// watchArgs is the watcher's command line after "_watch".
func watchArgs(lab, file, pidFile string) []string {
	return []string{"--lab", lab, "--file", file, "--pidfile", pidFile}
}

// WatchArgs reads the watcher's command line, as EnsureWatcher writes it
// after "_watch": the lab, its file and the watcher's pid file.
func WatchArgs(args []string) (lab, file, pidFile string, err error) {
	fs := flag.NewFlagSet("_watch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&lab, "lab", "", "the lab")
	fs.StringVar(&file, "file", "", "its lab file")
	fs.StringVar(&pidFile, "pidfile", "", "pid file")
	if err := fs.Parse(args); err != nil {
		return "", "", "", fmt.Errorf("netlab _watch: %w", err)
	}
	return lab, file, pidFile, nil
}

// EnsureWatcher starts the lab's watcher unless one runs for the same
// file, with the same program.
func EnsureWatcher(lab, file, self string) (changed bool, err error) {
	pidFile := filepath.Join(engine.RunDir, lab, naming.WatcherPid)
	args := append([]string{"_watch"}, watchArgs(lab, file, pidFile)...)
	if pid, ok := hostproc.Running(pidFile); ok {
		// The same lab and file, and the same program: a watcher of an
		// earlier netlab (upgraded since) is replaced, or it would repair
		// with the old code.
		if slices.Equal(hostproc.Args(pid), args) && hostproc.Runs(pid, self) {
			return false, nil
		}
		if err := hostproc.Stop(pid, pidFile); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
		return false, err
	}
	if err := hostproc.Start(pidFile, self, args...); err != nil {
		return false, fmt.Errorf("watcher of lab %s: %w", lab, err)
	}
	return true, nil
}

// Watch is the watcher's main loop: it rewires the lab (repair, an up of
// its file) after each start of one of its containers, and after a
// deletion of one of its bridges, until ctx ends.
// The engine's event stream is followed again after an error (an engine
// restart).
func Watch(ctx context.Context, lab, file, pidFile string, repair func(ctx context.Context) error) error {
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	log.SetFlags(log.LstdFlags)
	// The up that started this watcher may still be stopping nodes that
	// died at start: follow the lab once up lets go of it.
	if !waitForLock(ctx, lab) {
		return nil
	}
	since := time.Now()
	log.Printf("watching lab %s (%s)", lab, file)
	kick := make(chan struct{}, 1)
	go rewire(ctx, lab, file, kick, repair)
	go func() {
		for ctx.Err() == nil { // a bridge deleted by hand: a switch pulled out
			if err := wire.WatchBridges(ctx, lab, kick); err != nil {
				log.Printf("%v; following again in 2s", err)
				sleep(ctx, 2*time.Second)
			}
		}
	}()
	// The lab's runtime follows its nodes; the Docker engine may be away
	// for a while (restarted, say).
	for ctx.Err() == nil {
		h, err := runtimes.Open(ctx, "")
		if err == nil {
			err = h.Watch(ctx, lab, since, kick)
			h.Close()
			if !errors.Is(err, engine.ErrNoEngine) {
				return err
			}
		}
		log.Printf("%v; trying again in 2s", err)
		sleep(ctx, 2*time.Second)
	}
	return nil
}

// waitForLock waits until nobody holds the lab's lock, or ctx ends (then
// false): flock(2) is not interrupted by a signal that Go handles.
func waitForLock(ctx context.Context, lab string) bool {
	got := make(chan func(), 1)
	go func() {
		unlock, err := engine.LockLab(lab, "watch", nil)
		if err != nil {
			log.Printf("%v; following the lab anyway", err)
			unlock = func() {}
		}
		got <- unlock
	}()
	select {
	case unlock := <-got:
		unlock()
		return true
	case <-ctx.Done():
		return false
	}
}

// rewire repairs the lab once for each burst of starts. The repair is an
// up, which waits for the lab's lock, so that it never runs beside
// another up of the lab. A repair that fails is tried again, retryFirst
// later and twice as long each time, retries times at most, unless it
// says it is final (Final): a step that failed on a passing state of the
// host (a restarted node's old namespace going away under a busy kernel)
// would leave the lab half wired until the next start or deletion.
func rewire(ctx context.Context, lab, file string, kick <-chan struct{}, repair func(ctx context.Context) error) {
	var again <-chan time.Time
	tries := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
			tries = 0
		case <-again:
		}
		again = nil
		sleep(ctx, 200*time.Millisecond) // let a burst (several restarts) settle
		if _, err := os.Stat(file); err != nil {
			log.Printf("cannot rewire: lab file %s: %v", file, err)
			continue
		}
		start := time.Now()
		err := repair(ctx)
		if err == nil {
			log.Printf("lab %s rewired in %s", lab, time.Since(start).Round(time.Millisecond))
			tries = 0
			continue
		}
		log.Printf("netlab up %s: %v", file, err)
		if d, ok := retryAfter(err, tries); ok && ctx.Err() == nil {
			tries++
			log.Printf("trying again in %s (%d of %d)", d, tries, retries)
			again = time.After(d)
		}
	}
}

// A failed repair is tried again retries times at most, retryFirst after
// it failed, then twice as long each time (1, 2, 4, 8, 16 s).
const retries = 5

var retryFirst = time.Second // a variable for the tests

// retryAfter is how long after its tries-th retry failed (0: the repair
// itself) a failed repair is tried again, unless it is not to be.
func retryAfter(err error, tries int) (time.Duration, bool) {
	var final *FinalError
	if tries >= retries || errors.As(err, &final) {
		return 0, false
	}
	return retryFirst << tries, true
}

// FinalError is a repair's failure that another try would not mend, or
// should not: the file no longer loads, or a node ended at start and was
// stopped (starting it again is what the stop prevents).
type FinalError struct{ Err error }

func (e *FinalError) Error() string { return e.Err.Error() }
func (e *FinalError) Unwrap() error { return e.Err }

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
