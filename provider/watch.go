package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/netlab/netlab/naming"
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
	return runningPid(filepath.Join(RunDir, lab, naming.WatcherPid))
}

// WatcherLog is the watcher's log file.
func WatcherLog(lab string) string {
	return filepath.Join(RunDir, lab, "watch.log")
}

// EnsureWatcher starts the lab's watcher unless one runs for the same file.
func EnsureWatcher(lab, file, self string) (changed bool, err error) {
	pidFile := filepath.Join(RunDir, lab, naming.WatcherPid)
	args := []string{"_watch", "--lab", lab, "--file", file, "--pidfile", pidFile}
	if pid, ok := runningPid(pidFile); ok {
		if slices.Equal(processArgs(pid), args) {
			return false, nil
		}
		if err := stopPid(pid, pidFile); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
		return false, err
	}
	if err := startHelper(pidFile, self, args...); err != nil {
		return false, fmt.Errorf("watcher of lab %s: %w", lab, err)
	}
	return true, nil
}

// Watch is the watcher's main loop: it rewires the lab (repair, an up of
// its file) after each start of one of its containers, until ctx ends. The
// engine's event stream is followed again after an error (an engine
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
	if _, err := os.Stat(filepath.Join(RunDir, lab, ".runc")); err == nil {
		return watchRunc(ctx, lab, kick)
	}
	for first := true; ctx.Err() == nil; first = false {
		d, err := NewDocker(ctx)
		if err != nil {
			log.Printf("%v; trying again in 2s", err)
			sleep(ctx, 2*time.Second)
			continue
		}
		f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "start"),
			filters.Arg("label", naming.LabelLab+"="+lab))
		opts := events.ListOptions{Filters: f}
		if first { // a start between up's end and now is seen too
			opts.Since = strconv.FormatFloat(float64(since.UnixNano())/1e9, 'f', 3, 64)
		}
		msgs, errs := d.c.Events(ctx, opts)
		if !first {
			// The engine was away (restarted, say): what started meanwhile
			// sent no event this stream will see. Rewire once.
			log.Printf("following the engine's events again; rewiring what started meanwhile")
			select {
			case kick <- struct{}{}:
			default:
			}
		}
	loop:
		for {
			select {
			case m := <-msgs:
				log.Printf("node %s started (container %s)", m.Actor.Attributes[naming.LabelNode], m.Actor.Attributes["name"])
				select {
				case kick <- struct{}{}:
				default: // a rewiring is due already
				}
			case err := <-errs:
				if ctx.Err() == nil {
					log.Printf("event stream: %v; following it again", err)
				}
				break loop
			case <-ctx.Done():
				break loop
			}
		}
		d.Close()
		sleep(ctx, time.Second)
	}
	return nil
}

// waitForLock waits until nobody holds the lab's lock, or ctx ends (then
// false): flock(2) is not interrupted by a signal that Go handles.
func waitForLock(ctx context.Context, lab string) bool {
	got := make(chan func(), 1)
	go func() {
		unlock, err := LockLab(lab, "watch", nil)
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
// another up of the lab.
func rewire(ctx context.Context, lab, file string, kick <-chan struct{}, repair func(ctx context.Context) error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		sleep(ctx, 200*time.Millisecond) // let a burst (several restarts) settle
		if _, err := os.Stat(file); err != nil {
			log.Printf("cannot rewire: lab file %s: %v", file, err)
			continue
		}
		start := time.Now()
		if err := repair(ctx); err != nil {
			log.Printf("netlab up %s: %v", file, err)
			continue
		}
		log.Printf("lab %s rewired in %s", lab, time.Since(start).Round(time.Millisecond))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

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

// Died lists the lab's nodes whose container's process ended between
// since and now, with the exit code of each one's last end, from the
// engine's events: a node restarted by its restart policy since shows too.
func (d *Docker) Died(ctx context.Context, lab string, since time.Time) (map[string]int, error) {
	f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "die"),
		filters.Arg("label", naming.LabelLab+"="+lab))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := d.c.Events(ctx, events.ListOptions{Filters: f,
		Since: strconv.FormatInt(since.Unix(), 10), Until: strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 3, 64)})
	out := map[string]int{}
	for {
		select {
		case m := <-msgs:
			if time.Unix(0, m.TimeNano).Before(since) {
				continue
			}
			code, _ := strconv.Atoi(m.Actor.Attributes["exitCode"])
			out[m.Actor.Attributes[naming.LabelNode]] = code
		case err := <-errs:
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("read the engine's events: %w", err)
		}
	}
}
