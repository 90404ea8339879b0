package lab

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/planner"
)

// EventKind says what an Event reports.
type EventKind string

const (
	// EventStep: one step of the plan ended (Outcome says how).
	EventStep EventKind = "step"
	// EventNote: something done besides the plan's steps that a person
	// reads (a node removed because the file no longer has it, an init
	// binary put back, a firewall table pruned).
	EventNote EventKind = "note"
	// EventWarning: something that did not stop the operation but leaves
	// the lab short of what its file asks (no watcher, a host limit).
	EventWarning EventKind = "warning"
	// EventWaiting: another command holds the lab's lock; this one waits.
	EventWaiting EventKind = "waiting"
)

// Event is a piece of progress of a long operation.
type Event struct {
	Lab     string        `json:"lab"`
	Kind    EventKind     `json:"kind"`
	Message string        `json:"message,omitempty"` // notes, warnings, waiting: the sentence
	Step    *planner.Step `json:"-"`                 // steps: the step
	StepID  string        `json:"step,omitempty"`
	Outcome apply.Outcome `json:"outcome,omitempty"`
	Took    time.Duration `json:"took,omitempty"`
	Err     error         `json:"-"`
	N       int           `json:"n,omitempty"`     // steps: how many have ended, this one included
	Total   int           `json:"total,omitempty"` // steps: how many the plan has
}

// Progress receives an operation's events, one at a time (calls never
// overlap). A nil Progress drops them.
type Progress func(Event)

func (p Progress) send(e Event) {
	if p != nil {
		p(e)
	}
}

func (p Progress) note(lab, format string, args ...any) {
	p.send(Event{Lab: lab, Kind: EventNote, Message: fmt.Sprintf(format, args...)})
}

func (p Progress) warn(lab, format string, args ...any) {
	p.send(Event{Lab: lab, Kind: EventWarning, Message: fmt.Sprintf(format, args...)})
}
