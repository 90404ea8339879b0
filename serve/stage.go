package serve

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/store"
)

// stageParallel is how many labs a class's move to a stage resets at
// once: a reset runs setup commands in every node of a lab, and a class
// is many labs on one machine.
const stageParallel = 2

// stageProgress is a lab's part in moving its class to a stage, as the
// class's watchers get it (event "stage-progress").
type stageProgress struct {
	Stage string `json:"stage"`
	LabID string `json:"lab"`
	Lab   string `json:"lab_name"`
	Owner string `json:"owner"`
	// State: "resetting", "done", "failed", "refused" (the reset would
	// take its owner over the class's limits; Error says why), or "at
	// next start" for a lab that does not run (it gets the stage when it
	// starts).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	Done  int    `json:"done"`  // labs finished so far
	Total int    `json:"total"` // labs to reset
}

// setStage moves the class to a stage: it is recorded (students' pages
// show it; their starts, checks and resets default to it), and every
// running lab of the class is reset to it through lab.Reset, a few at a
// time, beyond the request's life. The answer (202) lists what will be
// reset; the progress of each lab reaches the class's page as events.
func (s *Server) setStage(w http.ResponseWriter, r *http.Request, q request) {
	id, ok := s.classID(w, r)
	if !ok {
		return
	}
	var body struct{ Stage string }
	if !readJSON(w, r, &body) {
		return
	}
	err := s.st.SetStage(r.Context(), id, body.Stage)
	s.auditf(r, q.session.User.Name, "class stage", strconv.FormatInt(id, 10)+" "+body.Stage, outcome(err))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.hub.publish(classKey(id), event{Type: "stage", Data: map[string]string{"stage": body.Stage}})
	c, err := s.st.ClassByID(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	labs, err := s.st.ClassLabs(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	running := map[string]bool{}
	sums, err := s.labs.List(r.Context())
	if err != nil {
		writeLabError(w, err)
		return
	}
	for _, x := range sums {
		running[x.Lab] = x.Running > 0
	}
	out := struct {
		Stage   string   `json:"stage"`
		Reset   []string `json:"reset"`         // running labs, reset now
		Waiting []string `json:"at_next_start"` // labs that get the stage when they start
	}{Stage: body.Stage, Reset: []string{}, Waiting: []string{}}
	var todo []store.Lab
	for _, l := range labs {
		if running[l.Name] {
			todo = append(todo, l)
			out.Reset = append(out.Reset, l.Name)
			continue
		}
		out.Waiting = append(out.Waiting, l.Name)
		s.hub.publish(classKey(id), event{Type: "stage-progress", Data: stageProgress{Stage: body.Stage, LabID: l.ID, Lab: l.Name, Owner: l.Owner, State: "at next start"}})
	}
	go s.resetLabs(r, q.session.User.Name, c, body.Stage, todo)
	writeJSON(w, http.StatusAccepted, out)
}

// resetLabs resets labs to stage, stageParallel at a time, telling the
// class's and each lab's watchers, and the audit log.
func (s *Server) resetLabs(r *http.Request, user string, c store.Class, stage string, labs []store.Lab) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	var mu sync.Mutex
	done := 0
	report := func(l store.Lab, state string, err error) {
		mu.Lock()
		if state != "resetting" {
			done++
		}
		p := stageProgress{Stage: stage, LabID: l.ID, Lab: l.Name, Owner: l.Owner, State: state, Done: done, Total: len(labs)}
		mu.Unlock()
		if err != nil {
			p.Error = err.Error()
		}
		s.hub.publish(classKey(c.ID), event{Type: "stage-progress", Data: p})
		op := map[string]any{"op": "class stage " + stage, "state": state}
		if state == "resetting" {
			op["state"] = "started"
		}
		if err != nil {
			op["error"] = err.Error()
		}
		s.hub.publish("lab:"+l.ID, event{Type: "op", Data: op})
	}
	sem := make(chan struct{}, stageParallel)
	var wg sync.WaitGroup
	for _, l := range labs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Each lab's reset brings all its nodes back: it must fit
			// its owner's limits, else it stays as it is.
			release, err := s.reserveStart(ctx, l, fileNodes(l.File))
			if err != nil {
				s.auditf(r, user, "reset to class stage "+stage, l.Name, "refused: "+err.Error())
				report(l, "refused", err)
				return
			}
			defer release()
			report(l, "resetting", nil)
			progress := func(e lab.Event) {
				msg := e.Message
				if e.Err != nil {
					msg = e.Err.Error()
				}
				s.hub.publish("lab:"+l.ID, event{Type: "progress", Data: map[string]any{"kind": e.Kind, "message": msg, "step": e.StepID,
					"outcome": e.Outcome, "n": e.N, "total": e.Total}})
			}
			_, err = s.labs.Reset(ctx, l.File, lab.ResetOptions{Stage: stage, Runtime: s.opts.Runtime, AllowHost: c.AllowHost, Progress: progress})
			s.auditf(r, user, "reset to class stage "+stage, l.Name, outcome(err))
			if err != nil {
				report(l, "failed", err)
				return
			}
			report(l, "done", nil)
		}()
	}
	wg.Wait()
}
