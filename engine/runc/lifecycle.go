package runc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"golang.org/x/sys/unix"
)

// Start runs the node's command (runc run --detach) unless it runs. A
// node whose process ended runs again on the same root, its own layer
// kept, as a restarted Docker container keeps its file system.
func (r *Runc) Start(ctx context.Context, id string) (engine.Node, error) {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return engine.Node{}, fmt.Errorf("start container %s: %w", id, engine.ErrNoContainer)
	}
	pid, known := r.settle(id)
	if pid != 0 {
		return r.Inspect(ctx, id)
	}
	if known {
		if _, err := r.runc("delete", "--force", id); err != nil {
			return engine.Node{}, err
		}
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return engine.Node{}, err
	}
	if err := os.Remove(filepath.Join(dir, stoppedMark)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return engine.Node{}, err
	}
	// The root it was made on: a rebuilt image's would not match the
	// node's own layer. Gone from the cache: the image's current one.
	if lower := cfg.Annotations[annotationLower]; !exists(lower) {
		img, err := r.image(ctx, cfg.Annotations[annotationImage])
		if err != nil {
			return engine.Node{}, err
		}
		if err := rebase(cfg, img.Dir, dir); err != nil {
			return engine.Node{}, fmt.Errorf("start container %s: %w", id, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(engine.RunDir, cfg.Annotations[naming.LabelLab], cfg.Annotations[naming.LabelNode]), 0o755); err != nil {
		return engine.Node{}, err
	}
	if err := engine.PrepareGate(cfg.Annotations[naming.LabelLab]); err != nil {
		return engine.Node{}, err
	}
	out, errOut, err := openLogs(dir)
	if err != nil {
		return engine.Node{}, fmt.Errorf("logs of container %s: %w", id, err)
	}
	defer out.Close()
	defer errOut.Close()
	offset, _ := errOut.Seek(0, io.SeekEnd)
	// runc passes its standard output and error on to the node's process:
	// the log files. Its own errors land in the second.
	cmd := exec.Command(r.starter(), "--root", r.root, "run", "--detach", "--bundle", dir, id) // not cancelled: see runc
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Run(); err != nil {
		return engine.Node{}, fmt.Errorf("start container %s: runc run: %v: %s", id, err, readFrom(errOut.Name(), offset))
	}
	r.releaseImage(id) // its overlay mount keeps the image's root now
	n, err := r.Inspect(ctx, id)
	if err == nil && n.Pid == 0 {
		err = fmt.Errorf("container %s exited at once; see netlab logs %s %s", id, cfg.Annotations[naming.LabelLab], cfg.Annotations[naming.LabelNode])
	}
	return n, err
}

// settle is process, for a container runc may still be making: its
// state directory without state.json is a runc run under way (one an up
// killed half-way left running) or one that died before writing it. The
// first writes state.json within a second or so; the second never will,
// and its directory, with no process behind it, is removed so that runc
// run can make the container again.
func (r *Runc) settle(id string) (pid int, known bool) {
	stateDir := filepath.Join(r.root, id)
	for range 100 {
		if pid, known = r.process(id); known {
			return pid, known
		}
		if _, err := os.Stat(stateDir); err != nil {
			return 0, false
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.RemoveAll(stateDir)
	return 0, false
}

// stoppedMark, in a bundle, says that the node was stopped on purpose:
// the lab's watcher does not start it again (up and start do).
const stoppedMark = "stopped"

// Stop sends the node's process SIGTERM, then SIGKILL after 10 s, and
// marks it stopped.
func (r *Runc) Stop(ctx context.Context, id string) error {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, stoppedMark), nil, 0o644); err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	for _, sig := range []string{"TERM", "KILL"} {
		if pid, _ := r.process(id); pid == 0 {
			return nil
		}
		if _, err := r.runc("kill", id, sig); err != nil {
			if pid, _ := r.process(id); pid == 0 {
				return nil
			}
			return fmt.Errorf("stop container %s: %w", id, err)
		}
		for range 100 {
			if pid, _ := r.process(id); pid == 0 {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return fmt.Errorf("stop container %s: its process outlived SIGKILL", id)
}

// Remove stops the node's process, deletes runc's container and the
// cgroups runc left of it, unmounts its root and removes its bundle; gone
// is success.
func (r *Runc) Remove(ctx context.Context, id string) error {
	dir, ok := bundleOf(id)
	if !ok {
		return nil
	}
	r.releaseImage(id)
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		// Killed here first: runc delete --force of a running container
		// polls every 100 ms for its end; of a stopped one it only cleans up.
		if pid, _ := r.process(id); pid != 0 {
			unix.Kill(pid, unix.SIGKILL)
			for i := 0; i < 500; i++ {
				if pid, _ := r.process(id); pid == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if _, err := r.runc("delete", "--force", id); err != nil {
			if _, known := r.process(id); known {
				return fmt.Errorf("remove container %s: %w", id, err)
			}
			// runc never finished making it (no state.json): nothing runs.
			if err := os.RemoveAll(filepath.Join(r.root, id)); err != nil {
				return fmt.Errorf("remove container %s: %w", id, err)
			}
		}
	}
	if err := removeCgroups(id); err != nil {
		return err
	}
	return removeBundle(dir)
}

// EnsureHosts rewrites the node's hosts file, which its /etc/hosts binds.
func (r *Runc) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (bool, error) {
	dir, ok := bundleOf(id)
	if !ok {
		return false, fmt.Errorf("container %s: %w", id, engine.ErrNoContainer)
	}
	changed, err := engine.WriteHostsFile(filepath.Join(dir, "hosts"), hosts)
	if err != nil {
		return false, fmt.Errorf("write /etc/hosts of %s: %w", id, err)
	}
	return changed, nil
}

// Exec runs argv in the node with runc exec (a terminal with -t).
func (r *Runc) Exec(ctx context.Context, id string, argv []string, stdio engine.Stdio) (int, error) {
	args := []string{"--root", r.root, "exec"}
	if stdio.TTY {
		args = append(args, "-t")
	}
	return engine.RunCommand(exec.CommandContext(ctx, r.starter(), append(append(args, id), argv...)...), stdio)
}
