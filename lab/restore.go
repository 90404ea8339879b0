package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/spec"
)

// RecordDir keeps a record of every lab that is up, from its first up to
// its down, on a disk that survives a reboot (the run directory, in /run,
// does not): what netlab restore brings back after one. Each lab has
// LAB.json, and LAB.trust, the consent its host access was given, for
// that content.
var RecordDir = "/var/lib/netlab/up"

// record is what a lab's restore needs.
type record struct {
	Lab     string `json:"lab"`
	File    string `json:"file"`              // the lab file, Kathará folder or topology, absolute
	Runtime string `json:"runtime,omitempty"` // as up was asked for it ("": the file's, or Docker)
}

func recordFile(lab string) string { return filepath.Join(RecordDir, lab+".json") }

// RestoreTrust is where the consent to a lab's host access is kept for
// its restore after a reboot: beside its record, gone with its down.
func RestoreTrust(lab string) string { return filepath.Join(RecordDir, lab+".trust") }

// writeRecord records the lab as up, with the runtime it was asked to run
// on (a record's own when it was not: the watcher's repairs and ups
// without --runtime keep the runtime a lab was brought up on).
func writeRecord(lab, file, runtime string) error {
	if old, err := readRecord(lab); err == nil && runtime == "" {
		runtime = old.Runtime
	}
	data, err := json.MarshalIndent(record{Lab: lab, File: file, Runtime: runtime}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(RecordDir, 0o700); err != nil {
		return fmt.Errorf("record lab %s for its restore: %w", lab, err)
	}
	tmp := recordFile(lab) + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("record lab %s for its restore: %w", lab, err)
	}
	return os.Rename(tmp, recordFile(lab))
}

func readRecord(lab string) (record, error) {
	var r record
	data, err := os.ReadFile(recordFile(lab))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("record of lab %s (%s): %w", lab, recordFile(lab), err)
	}
	return r, nil
}

// removeRecord forgets the lab: its down.
func removeRecord(lab string) error {
	var errs []error
	for _, f := range []string{recordFile(lab), RestoreTrust(lab)} {
		if err := os.RemoveAll(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Recorded lists the labs recorded as up, by name.
func Recorded() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(RecordDir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	sort.Strings(out)
	return out, nil
}

// Restored is a lab's restore: what its up did, or why it failed.
type Restored struct {
	Lab    string    `json:"lab"`
	File   string    `json:"file,omitempty"`
	Result *UpResult `json:"result,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// errNotRecorded: the lab went down while its restore waited for it.
var errNotRecorded = errors.New("no longer recorded: it was brought down")

// Restore brings back the labs recorded as up (labs: these only), each
// with an up of its recorded file on its recorded runtime, as after a
// reboot, when the run directories, runc's state, the host's bridges,
// firewall rules and the watchers are gone, and the records and the
// nodes' state on disk are what is left. Docker's nodes that its restart
// policy started again are rewired; runc's start again on their own
// layer, which their bundles keep on disk (engine.StateDir).
// A lab brought down meanwhile stays down. It fails when one lab does.
// The list is never nil.
func (m *Manager) Restore(ctx context.Context, labs []string, progress Progress) ([]Restored, error) {
	if err := NeedRoot("restore"); err != nil {
		return []Restored{}, err
	}
	if len(labs) == 0 {
		var err error
		if labs, err = Recorded(); err != nil {
			return []Restored{}, err
		}
	}
	out := []Restored{}
	var errs []error
	for _, name := range labs {
		r := m.restore(ctx, name, progress)
		if r.Error != "" {
			errs = append(errs, fmt.Errorf("lab %s: %s", name, r.Error))
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func (m *Manager) restore(ctx context.Context, name string, progress Progress) Restored {
	out := Restored{Lab: name}
	if err := naming.CheckName("lab", name); err != nil {
		out.Error = err.Error()
		return out
	}
	rec, err := readRecord(name)
	if errors.Is(err, os.ErrNotExist) {
		out.Error = fmt.Sprintf("not recorded as up (%s): bring it up with netlab up", recordFile(name))
		return out
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.File = rec.File
	l, _, err := Load(rec.File)
	if err == nil && l.Name != name {
		err = fmt.Errorf("%s is now lab %s; netlab down %s, or bring it up again", rec.File, l.Name, name)
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Result, err = m.Up(ctx, l, UpOptions{Runtime: rec.Runtime, Progress: progress, restoring: true})
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// recordUp records the lab as up (write), with its lock held; before the
// up (!write), the up of a restore stops instead when a down forgot the
// lab meanwhile. The watcher's repairs leave the record as the up they
// repair wrote it.
func (m *Manager) recordUp(l *spec.Lab, opts UpOptions, write bool) error {
	if opts.restoring && !write {
		if _, err := readRecord(l.Name); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("lab %s: %w", l.Name, errNotRecorded)
		}
	}
	if !write || opts.Repair || l.File == "" {
		return nil
	}
	file, err := filepath.Abs(l.File)
	if err != nil {
		return err
	}
	runtime := opts.Runtime
	if runtime == "" {
		runtime = l.Runtime
	}
	return writeRecord(l.Name, file, runtime)
}
