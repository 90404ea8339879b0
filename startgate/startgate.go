// Package startgate bounds how many nodes of a lab run their start-up
// work at once (a router's FRR start: four daemons reading their
// configuration, vtysh applying it). The host keeps a directory of slot
// files per lab, two per CPU (Prepare, Slots), bound read-only into the
// lab's nodes; a node's
// start command runs its heavy part through netlab-init's _gate mode (Run),
// which holds an exclusive flock on one slot file for as long as the part
// runs. Hundreds of routers starting together then take turns, twice as
// many at a time as the host has CPUs, instead of all sharing the CPUs at once and
// each taking minutes. A lock dies with the process that holds it, so a
// node that is killed mid-start frees its slot.
//
// While a netlab up wires its nodes it holds the gate's hold file shared
// (Hold), and starts wait until no up holds it: the wiring, which up
// returns after, then has the CPUs; the routers start once it is done.
//
// A node is root in itself and can lock any file it can read: a gate per
// lab keeps what a node does to the gate within its own lab, and an up
// waits for the hold file only briefly (HoldWait), so that no node can
// stop an up.
//
// It is small on purpose: netlab-init, which every node starts, imports it.
package startgate

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NodeDir is where a node finds the slot files (bound read-only).
const NodeDir = "/.netlab/gate"

// slotPrefix starts every slot file's name.
const slotPrefix = "slot-"

// holdName is the file that ups hold shared while they wire.
const holdName = "hold"

// Slots is how many starts may run at once on this host: two per CPU. A
// router's start holds its slot also while it waits (each daemon's start
// returns once it answers on its socket), so one per CPU left the CPUs
// half idle: at 10 ASes (83 routers, 2 CPUs) two a CPU took the matrix
// from 266 s to 110 s after the wiring (with FRR's own start script, which
// also polled watchfrr).
func Slots() int { return 2 * runtime.NumCPU() }

// Prepare makes dir hold exactly n slot files (slot-0 ... slot-N-1),
// empty and readable by all. Files of a larger n made before are removed;
// a node waiting on one keeps its open file and takes its turn there.
func Prepare(dir string, n int) error {
	if n < 1 {
		n = 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the start gate %s: %w", dir, err)
	}
	for i := range n {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s%d", slotPrefix, i)), os.O_CREATE|os.O_RDONLY, 0o444)
		if err != nil {
			return fmt.Errorf("create a slot of the start gate %s: %w", dir, err)
		}
		f.Close()
	}
	f, err := os.OpenFile(filepath.Join(dir, holdName), os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("create the start gate's hold file in %s: %w", dir, err)
	}
	f.Close()
	names, err := slotNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names[min(n, len(names)):] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove a slot of the start gate %s: %w", dir, err)
		}
	}
	return nil
}

// slotNames lists dir's slot files in the order of their number.
func slotNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the start gate %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), slotPrefix) && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	num := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(name, slotPrefix))
		return n
	}
	slices.SortFunc(names, func(a, b string) int { return num(a) - num(b) })
	return names, nil
}

// HoldWait is how long Hold tries for the hold file. A start holds it
// exclusive only for an instant (it checks that no up holds it); longer
// is a node holding it on purpose, and the up goes on without the hold.
const HoldWait = 5 * time.Second

// Hold holds dir's hold file shared until release is called: starts wait
// meanwhile (Acquire). Several ups hold it at once. held is false when the
// file stayed locked for HoldWait: release then does nothing, and starts
// do not wait for this up.
func Hold(dir string) (release func(), held bool, err error) {
	f, err := os.Open(filepath.Join(dir, holdName))
	if err != nil {
		return nil, false, fmt.Errorf("hold the start gate: %w", err)
	}
	for deadline := time.Now().Add(HoldWait); ; time.Sleep(10 * time.Millisecond) {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, true, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, false, fmt.Errorf("hold the start gate %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return func() {}, false, nil
		}
	}
}

// MaxWait is how long a start waits for a slot before it runs anyway: a
// slot held longer is held by something other than a start (a student's
// flock in their own lab), and the node must not wait for it forever. It is
// long because the queue is: the 243 routers of a 30-AS Internet take
// about 8 minutes on 2 CPUs, and with 5 minutes here the last hundred all
// started at once, which is what the gate is for preventing.
const MaxWait = 30 * time.Minute

// Acquire takes a slot of dir once no up holds the gate (Hold): a free
// one at once if there is one, else it waits on one chosen at random (with
// hundreds of starts waiting, every slot has its queue) until it is free.
// All waiting ends when maxWait has passed. It returns
// the slot's open file, whose closing frees it (nil: no slot, run anyway:
// no gate in this node, or the wait ran out), and how long it waited.
func Acquire(dir string, maxWait time.Duration) (*os.File, time.Duration, error) {
	names, err := slotNames(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(names) == 0) {
		return nil, 0, nil // no gate: the host is not netlab's, or an older netlab's
	}
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	if !waitHold(filepath.Join(dir, holdName), maxWait) {
		return nil, time.Since(start), nil
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, i := range rand.Perm(len(names)) {
		f, err := os.Open(filepath.Join(dir, names[i]))
		if err != nil {
			continue // removed meanwhile (fewer CPUs now)
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			return f, time.Since(start), nil
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, 0, nil
	}
	f := files[rand.IntN(len(files))]
	got := make(chan error, 1)
	go func() { got <- unix.Flock(int(f.Fd()), unix.LOCK_EX) }()
	timer := time.NewTimer(max(maxWait-time.Since(start), 0))
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			return nil, time.Since(start), fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		files = slices.DeleteFunc(files, func(g *os.File) bool { return g == f })
		return f, time.Since(start), nil
	case <-timer.C:
		return nil, time.Since(start), nil
	}
}

// waitHold waits until no up holds the hold file (it takes it exclusive
// and lets go at once), or maxWait has passed (false). A gate without one
// (an older netlab's) holds no wait.
func waitHold(file string, maxWait time.Duration) bool {
	f, err := os.Open(file)
	if err != nil {
		return true
	}
	got := make(chan error, 1)
	go func() {
		got <- unix.Flock(int(f.Fd()), unix.LOCK_EX)
		f.Close()
	}()
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case <-got:
		return true
	case <-timer.C:
		return false
	}
}

// Run is netlab-init's _gate mode: it takes a slot of NodeDir, runs the
// command with the node's standard streams, frees the slot when the
// command ends and returns its exit status. Without a gate (an older
// host, Kubernetes) the command runs at once.
func Run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "netlab-init _gate: no command to run")
		return 2
	}
	slot, waited, err := Acquire(NodeDir, MaxWait)
	if err != nil {
		fmt.Fprintf(stderr, "netlab-init _gate: %v; running %s without a slot\n", err, args[0])
	} else if slot == nil && waited >= MaxWait {
		fmt.Fprintf(stderr, "netlab-init _gate: no slot free after %s; running %s anyway\n", MaxWait, args[0])
	}
	if slot != nil {
		defer slot.Close()
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "netlab-init _gate: %v\n", err)
		return 127
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal())
		}
		return exit.ExitCode()
	default:
		fmt.Fprintf(stderr, "netlab-init _gate: %v\n", err)
		return 1
	}
}
