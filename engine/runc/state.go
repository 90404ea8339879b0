package runc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
)

// state is what runc keeps of a container it runs (its state.json).
type state struct {
	Pid   int    `json:"init_process_pid"`
	Start uint64 `json:"init_process_start"`
}

// readState reads the init process's pid and start time from runc's
// state file. They come first in it, before the container's whole
// configuration (9 KB), which is not read: listing a lab reads every
// node's state.
func readState(file string) (state, error) {
	var st state
	f, err := os.Open(file)
	if err != nil {
		return st, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return st, fmt.Errorf("%s: not a JSON object", file)
	}
	for seen := 0; seen < 2 && dec.More(); {
		key, err := dec.Token()
		if err != nil {
			return st, fmt.Errorf("%s: %w", file, err)
		}
		var v any = new(json.RawMessage)
		switch key {
		case "init_process_pid":
			v, seen = &st.Pid, seen+1
		case "init_process_start":
			v, seen = &st.Start, seen+1
		}
		if err := dec.Decode(v); err != nil {
			return st, fmt.Errorf("%s: %s: %w", file, key, err)
		}
	}
	return st, nil
}

// process returns the container's init process, 0 when it does not run
// (its process gone, a zombie, or another process with the pid). known
// tells whether runc has the container.
func (r *Runc) process(id string) (pid int, known bool) {
	st, err := readState(filepath.Join(r.root, id, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil || st.Pid == 0 {
		return 0, true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/stat")
	if err != nil || !procRunning(stat, st.Start) {
		return 0, true
	}
	return st.Pid, true
}

// procRunning tells from a process's /proc/PID/stat whether it is the one
// that started at start (clock ticks since boot) and has not ended. A
// zombie ended, unless other threads of it still run: the thread group's
// leader is a zombie while another thread of it execs (the kernel then
// kills the others and gives the exec'ing thread the leader's pid and
// start time), as a Go program does that execs from another thread than
// its first, netlab-init among them. On two busy cores that takes long
// enough that 1,000-node ups took one to three nodes for dead at start and
// stopped them.
func procRunning(stat []byte, start uint64) bool {
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	// fields[0] is the state, [17] the number of threads, [19] the start time.
	if len(fields) < 20 || fields[19] != strconv.FormatUint(start, 10) {
		return false
	}
	switch fields[0] {
	case "X":
		return false
	case "Z":
		return fields[17] != "1"
	}
	return true
}

// Inspect returns the node's process and namespace (Pid 0 if stopped).
func (r *Runc) Inspect(ctx context.Context, id string) (engine.Node, error) {
	if !r.Has(id) {
		return engine.Node{}, fmt.Errorf("inspect container %s: %w", id, engine.ErrNoContainer)
	}
	n := engine.Node{ID: id}
	pid, _ := r.process(id)
	if pid == 0 {
		return n, nil
	}
	ns, err := nodeinit.Instance(strconv.Itoa(pid))
	if err != nil {
		return n, nil // ended meanwhile
	}
	n.Pid, n.NetNS = pid, ns
	return n, nil
}

// List returns the lab's nodes ("" lists every lab's), from their bundles.
func (r *Runc) List(ctx context.Context, lab string) ([]engine.Container, error) {
	if lab == "" {
		lab = "*"
	}
	files, err := filepath.Glob(filepath.Join(engine.StateDir, lab, "*", "config.json"))
	if err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(legacyBundle(lab, "*"), "config.json"))
	files = append(files, old...)
	out := make([]engine.Container, 0, len(files))
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		anns, err := r.annotations.get(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		seen[f] = true
		labels := map[string]string{}
		for k, v := range anns {
			if k != annotationImage && k != annotationLower {
				labels[k] = v
			}
		}
		id := naming.Container(labels[naming.LabelLab], labels[naming.LabelNode])
		st := "created"
		if pid, known := r.process(id); pid != 0 {
			st = "running"
		} else if known {
			st = "exited"
		}
		out = append(out, engine.Container{ID: id, Name: id, Node: labels[naming.LabelNode], State: st, Status: st,
			Image: anns[annotationImage], Labels: labels, Runtime: engine.RuntimeRunc, ImageRoot: anns[annotationLower]})
	}
	var dirs []string // every lab's: nil
	if lab != "*" {
		dirs = []string{filepath.Join(engine.StateDir, lab), filepath.Dir(legacyBundle(lab, "x"))}
	}
	r.annotations.forget(dirs, seen)
	engine.SortContainers(out)
	return out, nil
}

// Died lists the nodes of since whose process has ended, as netlab up
// asks of the nodes it released (a runc node stays down once its process
// ends, so every one that does not run now has ended since it was
// released: the times are not needed). runc keeps no exit code: -1.
func (r *Runc) Died(ctx context.Context, lab string, since map[string]time.Time) (map[string]int, error) {
	// The bundles' names and runc's state, not List: its read of every
	// node's configuration is most of its time.
	bundles, err := os.ReadDir(filepath.Join(engine.StateDir, lab))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	old, _ := os.ReadDir(filepath.Dir(legacyBundle(lab, "x")))
	bundles = append(bundles, old...)
	out := map[string]int{}
	for _, b := range bundles {
		if _, asked := since[b.Name()]; !asked || !b.IsDir() {
			continue
		}
		if pid, known := r.process(naming.Container(lab, b.Name())); known && pid == 0 {
			out[b.Name()] = -1
		}
	}
	return out, nil
}
