package serve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/graph"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// opTimeout bounds an operation that the page started: it goes on when
// the page goes, but not for ever.
const opTimeout = 10 * time.Minute

// listRuntimeLimit is how long a list of labs waits for the runtime.
var listRuntimeLimit = 5 * time.Second

// listLabs gives the user's labs (a teacher's: all), with whether each
// runs.
func (s *Server) listLabs(w http.ResponseWriter, r *http.Request, q request) {
	var list []store.Lab
	var err error
	if q.session.User.Role == store.Teacher {
		list, err = s.st.Labs(r.Context())
	} else {
		list, err = s.st.LabsOf(r.Context(), q.session.User.ID)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// The runtime is asked how many nodes run, for a while only: a busy
	// engine (Docker lists containers under each one's lock) must not
	// hold the page; the list then says the counts are unknown.
	running := map[string]lab.Summary{}
	ctx, cancel := context.WithTimeout(r.Context(), listRuntimeLimit)
	sums, err := s.labs.List(ctx)
	cancel()
	if err == nil {
		for _, x := range sums {
			running[x.Lab] = x
		}
	} else {
		s.log.Warn("listing labs: the runtime did not answer; node counts left unknown", "error", err)
	}
	type item struct {
		store.Lab
		Nodes   int  `json:"nodes"`
		Running int  `json:"running"`
		Unknown bool `json:"unknown"` // the runtime did not answer: nodes and running are not known
	}
	out := []item{}
	for _, l := range list {
		out = append(out, item{Lab: l, Nodes: running[l.Name].Nodes, Running: running[l.Name].Running, Unknown: err != nil})
	}
	writeJSON(w, http.StatusOK, out)
}

// labDetail is a lab as its page shows it.
type labDetail struct {
	store.Lab
	Readme     string        `json:"readme"`
	Nodes      []string      `json:"nodes"`
	Links      [][2]string   `json:"links"`    // node:iface pairs
	Networks   []networkInfo `json:"networks"` // bridges and their members
	Checks     []checkInfo   `json:"checks"`
	Stages     []*spec.Stage `json:"stages"`
	ClassStage string        `json:"class_stage"`
	State      labState      `json:"state"`
	// Of a shared lab: each node's group, and the user's ("" for a
	// teacher, who reaches every node).
	NodeGroups map[string]string `json:"node_groups"`
	Group      string            `json:"group"`
	Restricted bool              `json:"restricted"` // the user reaches their group's nodes only
}

type networkInfo struct {
	Name    string   `json:"name"`
	Members []string `json:"members"` // node:iface
}

type checkInfo struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Stage string `json:"stage,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

func (s *Server) labDetail(w http.ResponseWriter, r *http.Request, q request) {
	l, err := spec.Load(q.lab.File)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "lab file of "+q.lab.Name+": "+err.Error())
		return
	}
	d := labDetail{Lab: q.lab, Readme: readme(l.Data), Nodes: []string{}, Links: [][2]string{}, Networks: []networkInfo{}, Checks: []checkInfo{}, Stages: l.Stages}
	if c, err := s.st.ClassByID(r.Context(), q.lab.ClassID); err == nil {
		d.ClassStage = c.Stage
	}
	d.NodeGroups = map[string]string{}
	d.Group, d.Restricted = s.restrictedGroup(r.Context(), q)
	members := map[string][]string{}
	for _, n := range l.SortedNodes() {
		d.Nodes = append(d.Nodes, n.Name)
		if n.Group != "" {
			d.NodeGroups[n.Name] = n.Group
		}
		for name, i := range n.Interfaces {
			if i.Network != "" {
				members[i.Network] = append(members[i.Network], n.Name+":"+name)
			}
		}
	}
	for _, k := range l.Links {
		d.Links = append(d.Links, [2]string{k.Endpoints[0].String(), k.Endpoints[1].String()})
	}
	for _, name := range l.SortedNetworks() {
		slices.Sort(members[name])
		d.Networks = append(d.Networks, networkInfo{Name: name, Members: members[name]})
	}
	for i, c := range l.Checks {
		d.Checks = append(d.Checks, checkInfo{Index: i, Name: c.Name, Stage: c.Stage, Hint: c.Hint})
	}
	if st, err := s.poll(r.Context(), q.lab.ID); err == nil {
		d.State = st.(labState)
	}
	writeJSON(w, http.StatusOK, d)
}

// readme is a lab file's header comment: what the lab is about.
func readme(data []byte) string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if strings.Contains(line, "yaml-language-server") {
			continue
		}
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// topology draws the lab as netlab graph does, in SVG.
func (s *Server) topology(w http.ResponseWriter, r *http.Request, q request) {
	l, err := spec.Load(q.lab.File)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write([]byte(graph.FromLab(l).SVG()))
}

func (s *Server) labResults(w http.ResponseWriter, r *http.Request, q request) {
	list, err := s.st.Results(r.Context(), q.lab.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// op runs an operation on a lab beyond the request's life (bounded by
// opTimeout): its progress and its end go to the lab's watchers, and
// what it did is audited.
func (s *Server) op(r *http.Request, q request, name string, f func(ctx context.Context, progress lab.Progress) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	key := "lab:" + q.lab.ID
	s.hub.publish(key, event{Type: "op", Data: map[string]any{"op": name, "state": "started"}})
	progress := func(e lab.Event) {
		msg := e.Message
		if e.Err != nil {
			msg = e.Err.Error()
		}
		s.hub.publish(key, event{Type: "progress", Data: map[string]any{"kind": e.Kind, "message": msg, "step": e.StepID,
			"outcome": e.Outcome, "n": e.N, "total": e.Total}})
	}
	err := f(ctx, progress)
	outcome := map[string]any{"op": name, "state": "done"}
	audit := "ok"
	if err != nil {
		outcome["state"], outcome["error"] = "failed", err.Error()
		audit = "failed: " + err.Error()
	}
	s.hub.publish(key, event{Type: "op", Data: outcome})
	s.auditf(r, q.session.User.Name, name, q.lab.Name, audit)
	return err
}

// answer writes an operation's result: 200 with v, or its error.
func answer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeLabError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// up brings the lab up (or repairs it), at the stage the body gives, else
// at its class's stage.
func (s *Server) up(w http.ResponseWriter, r *http.Request, q request) {
	if !s.teacherOfShared(w, r, q) {
		return
	}
	var body struct{ Stage string }
	if !readJSON(w, r, &body) {
		return
	}
	c, err := s.st.ClassByID(r.Context(), q.lab.ClassID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if body.Stage == "" {
		body.Stage = c.Stage // a lab not running when its class moved gets the stage now
	}
	release, over := s.overLimit(w, r, q, "up")
	if over {
		return
	}
	defer release()
	var res *lab.UpResult
	err = s.op(r, q, "up", func(ctx context.Context, progress lab.Progress) error {
		l, err := spec.Load(q.lab.File)
		if err != nil {
			return err
		}
		done, err := s.turn(ctx, q.lab.Name, progress)
		if err != nil {
			return err
		}
		defer done()
		res, err = s.labs.Up(ctx, l, lab.UpOptions{Runtime: s.opts.Runtime, Stage: body.Stage, AllowHost: c.AllowHost, Progress: progress})
		return err
	})
	answer(w, res, err)
}

func (s *Server) down(w http.ResponseWriter, r *http.Request, q request) {
	if !s.teacherOfShared(w, r, q) {
		return
	}
	var res lab.DownResult
	err := s.op(r, q, "down", func(ctx context.Context, progress lab.Progress) (err error) {
		res, err = s.labs.Down(ctx, q.lab.Name, lab.DownOptions{KeepCache: true, Progress: progress})
		return err
	})
	answer(w, res, err)
}

// reset brings the lab back to its file, at the start of a stage.
func (s *Server) reset(w http.ResponseWriter, r *http.Request, q request) {
	if !s.teacherOfShared(w, r, q) {
		return
	}
	var body struct{ Stage string }
	if !readJSON(w, r, &body) {
		return
	}
	c, err := s.st.ClassByID(r.Context(), q.lab.ClassID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// A reset brings every node of the file back (and a lab that does
	// not run, up): it must fit the class's limits as a start does, and
	// starts it as the server's up would (its runtime, the class's host
	// access).
	release, over := s.overLimit(w, r, q, "reset")
	if over {
		return
	}
	defer release()
	err = s.op(r, q, "reset", func(ctx context.Context, progress lab.Progress) error {
		_, err := s.labs.Reset(ctx, q.lab.File, lab.ResetOptions{Stage: body.Stage, Runtime: s.opts.Runtime, AllowHost: c.AllowHost, Progress: progress})
		return err
	})
	answer(w, map[string]string{"reset": q.lab.Name, "stage": body.Stage}, err)
}

// check runs the lab's checks (of a stage): each result goes to the
// lab's and the class's watchers as it completes, and is stored.
func (s *Server) check(w http.ResponseWriter, r *http.Request, q request) {
	var body struct{ Stage string }
	if !readJSON(w, r, &body) {
		return
	}
	run := time.Now().UnixMilli()
	var res *lab.CheckResult
	err := s.op(r, q, "check", func(ctx context.Context, _ lab.Progress) (err error) {
		done := func(i int, c checks.Result) {
			sr := store.Result{LabID: q.lab.ID, Run: run, Index: i, Name: c.Name, Stage: c.Stage, Passed: c.Passed,
				Detail: c.Detail, Hint: c.Hint, Tries: c.Tries, At: time.Now()}
			if err := s.st.AddResult(ctx, sr); err != nil {
				s.log.Error("store check result", "lab", q.lab.Name, "err", err)
			}
			s.hub.publish("lab:"+q.lab.ID, event{Type: "check", Data: sr})
			s.hub.publish(classKey(q.lab.ClassID), event{Type: "check", Data: sr})
		}
		res, err = s.labs.Check(ctx, q.lab.File, lab.CheckOptions{Stage: body.Stage, Done: done})
		return err
	})
	if err != nil {
		writeLabError(w, err)
		return
	}
	passed, failed := checks.Count(res.Results)
	writeJSON(w, http.StatusOK, map[string]any{"passed": passed, "failed": failed, "results": res.Results})
}

// nodeName is the request's {node}, if the lab's file has that node:
// another lab's node is not found.
func nodeName(r *http.Request, q request) (string, bool) {
	l, err := spec.Load(q.lab.File)
	node := r.PathValue("node")
	if err != nil || l.Nodes[node] == nil {
		return node, false
	}
	return node, true
}

// nodeAction stops, starts or restarts a node.
func (s *Server) nodeAction(w http.ResponseWriter, r *http.Request, q request) {
	node, ok := s.ourNode(r, q)
	if !ok {
		writeError(w, http.StatusNotFound, "lab "+q.lab.Name+" has no node "+node)
		return
	}
	action := r.PathValue("action")
	var f func(ctx context.Context, progress lab.Progress) error
	switch action {
	case "stop":
		f = func(ctx context.Context, _ lab.Progress) error { return s.labs.Stop(ctx, q.lab.Name, node) }
	case "start":
		f = func(ctx context.Context, p lab.Progress) error { return s.labs.Start(ctx, q.lab.Name, node, p) }
	case "restart":
		f = func(ctx context.Context, p lab.Progress) error { return s.labs.Restart(ctx, q.lab.Name, node, p) }
	default:
		writeError(w, http.StatusNotFound, "no action "+action+" on a node: stop, start or restart")
		return
	}
	err := s.op(r, q, action+" "+node, f)
	answer(w, map[string]string{"node": node, "done": action}, err)
}

// ifaceAction sets a node's interface up or down, or impairs its link.
func (s *Server) ifaceAction(w http.ResponseWriter, r *http.Request, q request) {
	node, ok := s.ourNode(r, q)
	if !ok {
		writeError(w, http.StatusNotFound, "lab "+q.lab.Name+" has no node "+node)
		return
	}
	iface, action := r.PathValue("iface"), r.PathValue("action")
	switch action {
	case "up", "down":
		var res lab.LinkResult
		err := s.op(r, q, "link "+action+" "+node+":"+iface, func(ctx context.Context, _ lab.Progress) (err error) {
			res, err = s.labs.Link(ctx, q.lab.Name, node, iface, action == "up")
			return err
		})
		answer(w, res, err)
	case "impair":
		var im lab.Impairment
		if !readJSON(w, r, &im) {
			return
		}
		var link *spec.Link
		err := s.op(r, q, "impair "+node+":"+iface, func(ctx context.Context, p lab.Progress) (err error) {
			link, err = s.labs.Impair(ctx, q.lab.Name, node, iface, im, p)
			return err
		})
		answer(w, link, err)
	default:
		writeError(w, http.StatusNotFound, "no action "+action+" on an interface: up, down or impair")
	}
}

// turn waits for a start's turn, when the server brings up at most
// Options.MaxStarts labs at once (on a small machine, thirty ups at once
// share its CPUs no faster than a few at a time); the page is told that
// it waits. done ends the turn.
func (s *Server) turn(ctx context.Context, labName string, progress lab.Progress) (done func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	select {
	case s.slots <- struct{}{}:
	default:
		progress(lab.Event{Lab: labName, Kind: lab.EventWaiting,
			Message: fmt.Sprintf("lab %s: %d labs are starting on this server; yours starts in turn…", labName, cap(s.slots))})
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return func() { <-s.slots }, nil
}
