package runc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/netlab/netlab/engine"
)

// A node's output, in its bundle: its standard output and its standard
// error each in a file of its own, as Docker keeps them apart. Bundles
// made before kept both in one file, logLegacy, shown as output.
const (
	logOut    = "stdout.log"
	logErr    = "stderr.log"
	logLegacy = "log"
)

// openLogs opens the node's two log files for appending.
func openLogs(dir string) (out, errOut *os.File, err error) {
	out, err = os.OpenFile(filepath.Join(dir, logOut), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	errOut, err = os.OpenFile(filepath.Join(dir, logErr), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		out.Close()
		return nil, nil, err
	}
	return out, errOut, nil
}

// readFrom returns what a file holds from offset on, trimmed.
func readFrom(file string, offset int64) string {
	data, _ := os.ReadFile(file)
	if int64(len(data)) < offset {
		return ""
	}
	return string(bytes.TrimSpace(data[offset:]))
}

// logStream is one log file and where its lines go.
type logStream struct {
	f  *os.File
	rd *bufio.Reader
	w  io.Writer
}

// Logs copies the node's output to stdout and its errors to stderr: the
// last tail lines of each ("all": every line); with follow, then what
// comes, until ctx ends or the node stops. Without follow, the output
// comes first and the errors after it: the files keep no times.
func (r *Runc) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return fmt.Errorf("logs of container %s: %w", id, engine.ErrNoContainer)
	}
	var streams []*logStream
	defer func() {
		for _, s := range streams {
			s.f.Close()
		}
	}()
	for _, l := range []struct {
		name string
		w    io.Writer
	}{{logLegacy, stdout}, {logOut, stdout}, {logErr, stderr}} {
		f, err := os.Open(filepath.Join(dir, l.name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("logs of container %s: %w", id, err)
		}
		s := &logStream{f: f, rd: bufio.NewReader(f), w: l.w}
		streams = append(streams, s)
		if err := s.tail(tail); err != nil {
			return err
		}
	}
	if !follow {
		return nil
	}
	for {
		ended := false
		if pid, _ := r.process(id); pid == 0 {
			ended = true // what it wrote before it ended is copied below
		}
		for _, s := range streams {
			if _, err := io.Copy(s.w, s.rd); err != nil {
				return err
			}
		}
		if ended {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// tail writes the last n lines the file holds ("all" or not a number:
// every line) and leaves the reader at its end.
func (s *logStream) tail(n string) error {
	data, err := io.ReadAll(s.rd)
	if err != nil {
		return err
	}
	if k, err := strconv.Atoi(n); err == nil {
		lines := bytes.SplitAfter(data, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		data = bytes.Join(lines[max(0, len(lines)-k):], nil)
	}
	_, err = s.w.Write(data)
	return err
}
