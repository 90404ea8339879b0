package report

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/steps"
)

// Progress shows a lab's events: steps as one updating line on a
// terminal, plain lines otherwise (failures always get a line of their
// own); notes on stdout, warnings on stderr. Event is a lab.Progress.
type Progress struct {
	stdout, stderr io.Writer
	tty            bool
	mu             sync.Mutex
	line           bool // a step line is shown on the terminal
}

// NewProgress shows events on stdout and stderr; the step line updates
// in place when stderr is a terminal.
func NewProgress(stdout, stderr io.Writer) *Progress {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &Progress{stdout: stdout, stderr: stderr, tty: tty}
}

// Event shows one event.
func (p *Progress) Event(e lab.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind != lab.EventStep || e.Outcome == apply.Failed {
		p.clear()
	}
	switch {
	case e.Kind == lab.EventNote:
		fmt.Fprintln(p.stdout, e.Message)
	case e.Kind != lab.EventStep:
		fmt.Fprintln(p.stderr, e.Message)
	case e.Outcome == apply.Failed:
		fmt.Fprintf(p.stderr, "[%d/%d] FAILED %s: %v\n", e.N, e.Total, e.StepID, e.Err)
	case p.tty:
		word := map[apply.Outcome]string{apply.Changed: "done", apply.Unchanged: "ok", apply.Skipped: "skipped"}[e.Outcome]
		fmt.Fprintf(p.stderr, "\r\033[K[%d/%d] %s %s", e.N, e.Total, word, steps.Describe(e.Step))
		p.line = true
	case e.Outcome != apply.Skipped:
		word := map[apply.Outcome]string{apply.Changed: "done", apply.Unchanged: "ok"}[e.Outcome]
		fmt.Fprintf(p.stderr, "[%d/%d] %-4s %s (%s)\n", e.N, e.Total, word, e.StepID, e.Took.Round(time.Millisecond))
	}
}

// clear removes the step line from the terminal.
func (p *Progress) clear() {
	if p.line {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.line = false
	}
}

// Finish removes the step line, before what follows the operation is
// written.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
