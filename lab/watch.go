package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/provider"
)

// Watch is a lab's watcher (netlab up starts one per lab, as a process
// of its own): until ctx ends it follows the lab's runtime for nodes that
// start again (a docker restart, a killed runc node brought back) and
// repairs the lab in-process with an up of its file, which rewires the
// nodes and releases their commands. It logs to the standard logger.
// Each repair reaches the runtimes afresh: the engine may have restarted
// since the last. A repair that failed is tried again a few times, unless
// the file no longer loads or a node ended at start (provider.FinalError).
func Watch(ctx context.Context, lab, file, pidFile string) error {
	repair := func(ctx context.Context) error {
		l, _, err := Load(file)
		if err != nil {
			return &provider.FinalError{Err: err}
		}
		m, err := Open(ctx, Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		_, err = m.Up(ctx, l, UpOptions{NoWatch: true, Repair: true, Progress: logEvent})
		if died := (*DiedError)(nil); errors.As(err, &died) {
			return &provider.FinalError{Err: err}
		}
		return err
	}
	return provider.Watch(ctx, lab, file, pidFile, repair)
}

// RunWatcher is the watcher's process (netlab _watch, which up starts):
// it reads the command line up gave it and runs Watch.
func RunWatcher(ctx context.Context, args []string) error {
	lab, file, pidFile, err := provider.WatchArgs(args)
	if err != nil {
		return usageError{err}
	}
	if err := Watch(ctx, lab, file, pidFile); err != nil {
		return fmt.Errorf("netlab watch %s: %w", lab, err)
	}
	return nil
}

// logEvent writes what a person would read of an up to the log: notes,
// warnings and failed steps.
func logEvent(e Event) {
	switch {
	case e.Kind == EventStep && e.Outcome == apply.Failed:
		log.Printf("FAILED %s: %v", e.StepID, e.Err)
	case e.Kind != EventStep:
		log.Print(e.Message)
	}
}

// Capture reads the frames of a node's interface or of a lab network's
// bridge, as pcap or a line per packet (opts says which and where), until
// ctx ends or opts' count or duration is reached.
func (m *Manager) Capture(ctx context.Context, opts capture.Options, stdout, stderr io.Writer) error {
	if err := NeedRoot("capture"); err != nil {
		return err
	}
	return capture.Run(ctx, m.host, opts, stdout, stderr)
}
