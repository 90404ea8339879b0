package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// A terminal a user opened is a shared terminal: its output goes to its
// owner's page and to every teacher who watches it; its input comes from
// its owner, or, once a teacher took it over, from that teacher alone.
// The owner's page is told who watches and who has the keys.

// recentMax is how much of a terminal's latest output a watcher who
// comes later gets first (the screen as it stands, more or less).
const recentMax = 16 << 10

// sharedTerm is an open terminal.
type sharedTerm struct {
	ID     string    `json:"id"`
	LabID  string    `json:"lab"`
	Lab    string    `json:"lab_name"`
	Owner  string    `json:"owner"` // the lab's owner (student or group)
	Node   string    `json:"node"`
	User   string    `json:"user"` // who opened it
	Opened time.Time `json:"opened"`

	in     io.Writer       // the shell's input
	owner  *websocket.Conn // the page that opened it
	ctx    context.Context // the terminal's life
	size   func() []byte   // the terminal's size, as a resize message
	mu     sync.Mutex      // guards what follows
	recent []byte          // its latest output
	watch  map[*watcher]bool
	taker  *watcher // the teacher who has the keys, if any
}

// watcher is a teacher's page watching a terminal.
type watcher struct {
	user string
	out  chan []byte // output to its socket; a watcher too slow misses some
}

// termInfo is what lists and pages show of an open terminal.
type termInfo struct {
	ID       string    `json:"id"`
	LabID    string    `json:"lab"`
	Lab      string    `json:"lab_name"`
	Owner    string    `json:"owner"`
	Node     string    `json:"node"`
	User     string    `json:"user"`
	Opened   time.Time `json:"opened"`
	Watchers []string  `json:"watchers"`
	TakenBy  string    `json:"taken_by"` // "" while its owner has the keys
}

func (t *sharedTerm) info() termInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := termInfo{ID: t.ID, LabID: t.LabID, Lab: t.Lab, Owner: t.Owner, Node: t.Node, User: t.User, Opened: t.Opened, Watchers: []string{}}
	for w := range t.watch {
		i.Watchers = append(i.Watchers, w.user)
	}
	slices.Sort(i.Watchers)
	if t.taker != nil {
		i.TakenBy = t.taker.user
	}
	return i
}

// Write is the shell's output: to the owner's page (its error ends the
// terminal), and to every watcher.
func (t *sharedTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.recent = append(t.recent, p...)
	if len(t.recent) > recentMax {
		t.recent = append([]byte(nil), t.recent[len(t.recent)-recentMax:]...)
	}
	for w := range t.watch {
		select {
		case w.out <- slices.Clone(p):
		default:
		}
	}
	t.mu.Unlock()
	if err := t.owner.Write(t.ctx, websocket.MessageBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ownerTyped is input from the owner's page: it goes in unless a teacher
// has the keys.
func (t *sharedTerm) ownerTyped(p []byte) {
	t.mu.Lock()
	taken := t.taker != nil
	t.mu.Unlock()
	if !taken {
		t.in.Write(p)
	}
}

// terms are the open terminals, by id.
type terms struct {
	mu   sync.Mutex
	byID map[string]*sharedTerm
}

func (ts *terms) add(t *sharedTerm) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.byID == nil {
		ts.byID = map[string]*sharedTerm{}
	}
	ts.byID[t.ID] = t
}

func (ts *terms) remove(id string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.byID, id)
}

func (ts *terms) get(id string) *sharedTerm {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.byID[id]
}

// list gives the open terminals of the labs keep says yes to, oldest
// first.
func (ts *terms) list(keep func(*sharedTerm) bool) []termInfo {
	ts.mu.Lock()
	var all []*sharedTerm
	for _, t := range ts.byID {
		if keep(t) {
			all = append(all, t)
		}
	}
	ts.mu.Unlock()
	out := []termInfo{}
	for _, t := range all {
		out = append(out, t.info())
	}
	slices.SortFunc(out, func(a, b termInfo) int { return a.Opened.Compare(b.Opened) })
	return out
}

// changed tells the terminal's owner and the class's teachers who
// watches it and who has the keys.
func (s *Server) termChanged(t *sharedTerm, classID int64, closed bool) {
	i := t.info()
	if !closed {
		msg, _ := json.Marshal(map[string]any{"watchers": i.Watchers, "taken_by": i.TakenBy})
		t.owner.Write(t.ctx, websocket.MessageText, msg)
	}
	s.hub.publish(classKey(classID), event{Type: "terminal", Data: map[string]any{"terminal": i, "closed": closed}})
}

// labTerminals lists a lab's open terminals (its owner's and teachers';
// of a shared lab, a student's group's nodes' only).
func (s *Server) labTerminals(w http.ResponseWriter, r *http.Request, q request) {
	group, restricted := s.restrictedGroup(r.Context(), q)
	var groups map[string]string
	if restricted {
		groups = map[string]string{}
		if l, err := spec.Load(q.lab.File); err == nil {
			for name, n := range l.Nodes {
				groups[name] = n.Group
			}
		}
	}
	writeJSON(w, http.StatusOK, s.terms.list(func(t *sharedTerm) bool {
		return t.LabID == q.lab.ID && (!restricted || (group != "" && groups[t.Node] == group))
	}))
}

// classTerminals lists the open terminals of a class's labs, for its
// teacher's grid.
func (s *Server) classTerminals(w http.ResponseWriter, r *http.Request, q request) {
	id, ok := s.classID(w, r)
	if !ok {
		return
	}
	labs, err := s.st.ClassLabs(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	in := map[string]bool{}
	for _, l := range labs {
		in[l.ID] = true
	}
	writeJSON(w, http.StatusOK, s.terms.list(func(t *sharedTerm) bool { return in[t.LabID] }))
}

// watchTerminal is a teacher watching a student's terminal over a
// websocket (output only; what the watcher sends is dropped), or, with
// take, taking it over: the teacher's keys go in and the student's do
// not, until the teacher's page closes. A student, even the lab's owner,
// gets 404 (audited): only teachers watch.
func (s *Server) watchTerminal(take bool) labHandler {
	return func(w http.ResponseWriter, r *http.Request, q request) {
		what := "watch terminal"
		if take {
			what = "take over terminal"
		}
		t := s.terms.get(r.PathValue("term"))
		if q.session.User.Role != store.Teacher || t == nil || t.LabID != q.lab.ID {
			s.auditf(r, q.session.User.Name, what, r.URL.Path, "denied: not a teacher, or no such terminal")
			writeError(w, http.StatusNotFound, "no such terminal")
			return
		}
		c, err := accept(w, r)
		if err != nil {
			return
		}
		object := q.lab.Name + "/" + t.Node + " of " + t.User
		s.auditf(r, q.session.User.Name, what, object, "opened")
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		wt := &watcher{user: q.session.User.Name, out: make(chan []byte, 256)}
		t.mu.Lock()
		if t.watch == nil {
			t.watch = map[*watcher]bool{}
		}
		t.watch[wt] = true
		if take {
			t.taker = wt
		}
		first := slices.Clone(t.recent)
		t.mu.Unlock()
		s.termChanged(t, q.lab.ClassID, false)
		defer func() {
			t.mu.Lock()
			delete(t.watch, wt)
			if t.taker == wt {
				t.taker = nil
			}
			t.mu.Unlock()
			s.auditf(r, q.session.User.Name, what, object, "closed")
			s.termChanged(t, q.lab.ClassID, false)
		}()
		if size := t.size(); size != nil {
			c.Write(ctx, websocket.MessageText, size)
		}
		c.Write(ctx, websocket.MessageBinary, first)
		go func() {
			defer cancel()
			for {
				typ, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				t.mu.Lock()
				keys := t.taker == wt
				t.mu.Unlock()
				if typ == websocket.MessageBinary && keys {
					t.in.Write(data)
				}
			}
		}()
		for {
			select {
			case p := <-wt.out:
				if err := c.Write(ctx, websocket.MessageBinary, p); err != nil {
					return
				}
			case <-t.ctx.Done():
				c.Close(websocket.StatusNormalClosure, "the terminal closed")
				return
			case <-ctx.Done():
				c.Close(websocket.StatusNormalClosure, "closed")
				return
			}
		}
	}
}
