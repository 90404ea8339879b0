package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// event is what the server pushes to the pages that watch a lab or a
// class, as a server-sent event of that type.
type event struct {
	Type string `json:"type"` // state, progress, check, op
	Data any    `json:"data"`
}

// hub delivers events by topic ("lab:ID", "class:ID") to the pages that
// subscribed. A lab topic is polled (its state read) every interval
// while someone watches it, and only then; its state is pushed when it
// changed.
type hub struct {
	poll  func(ctx context.Context, labID string) (any, error)
	every time.Duration

	mu     sync.Mutex
	topics map[string]*topic
}

type topic struct {
	subs map[chan event]struct{}
	stop context.CancelFunc
	last *event // the last state, for those who come later
}

func newHub(poll func(ctx context.Context, labID string) (any, error), every time.Duration) *hub {
	return &hub{poll: poll, every: every, topics: map[string]*topic{}}
}

// subscribe adds a watcher of key; cancel removes it.
func (h *hub) subscribe(key string) (<-chan event, func()) {
	ch := make(chan event, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[key]
	if t == nil {
		t = &topic{subs: map[chan event]struct{}{}}
		h.topics[key] = t
		if id, ok := strings.CutPrefix(key, "lab:"); ok && h.poll != nil {
			ctx, stop := context.WithCancel(context.Background())
			t.stop = stop
			go h.watch(ctx, key, id)
		}
	}
	t.subs[ch] = struct{}{}
	if t.last != nil {
		ch <- *t.last
	}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(t.subs, ch)
		if len(t.subs) == 0 {
			if t.stop != nil {
				t.stop()
			}
			delete(h.topics, key)
		}
	}
}

// publish sends e to key's watchers; a watcher too slow to take it
// misses it (the next state carries everything).
func (h *hub) publish(key string, e event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[key]
	if t == nil {
		return
	}
	if e.Type == "state" {
		t.last = &e
	}
	for ch := range t.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// watch polls a lab's state until ctx ends and publishes it when it
// changed.
func (h *hub) watch(ctx context.Context, key, labID string) {
	var last []byte
	tick := time.NewTicker(h.every)
	defer tick.Stop()
	for {
		st, err := h.poll(ctx, labID)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			st = map[string]string{"error": err.Error()}
		}
		if b, _ := json.Marshal(st); string(b) != string(last) {
			last = b
			h.publish(key, event{Type: "state", Data: json.RawMessage(b)})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// close stops every poller.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.topics {
		if t.stop != nil {
			t.stop()
		}
	}
}

// stream writes key's events to w as server-sent events until the client
// goes, with a comment every 15 s to keep proxies from closing it.
func (h *hub) stream(w http.ResponseWriter, r *http.Request, key string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ch, cancel := h.subscribe(key)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": netlab events\n\n")
	flusher.Flush()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			b, _ := json.Marshal(e.Data)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b)
		}
		flusher.Flush()
	}
}

// labState is a lab's live state as pages colour it.
type labState struct {
	Nodes      []nodeState  `json:"nodes"`
	Interfaces []ifaceState `json:"interfaces"`
}

type nodeState struct {
	Node  string `json:"node"`
	State string `json:"state"` // running, exited, ...; absent when the lab is down
	Ready bool   `json:"ready"` // wired
}

type ifaceState struct {
	Node    string `json:"node"`
	Iface   string `json:"iface"`
	Up      bool   `json:"up"`
	Carrier bool   `json:"carrier"`
	Impair  string `json:"impair,omitempty"`
	Missing bool   `json:"missing,omitempty"`
}

// poll reads a lab's state (the hub calls it while someone watches).
func (s *Server) poll(ctx context.Context, labID string) (any, error) {
	name, err := s.labName(ctx, labID)
	if err != nil {
		return nil, err
	}
	st, err := s.labs.Live(ctx, name)
	if err != nil {
		return nil, err
	}
	out := labState{Nodes: []nodeState{}, Interfaces: []ifaceState{}}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, nodeState{Node: n.Node, State: n.State, Ready: n.Ready})
		for _, i := range n.Interfaces {
			out.Interfaces = append(out.Interfaces, ifaceState{Node: n.Node, Iface: i.Name, Up: i.Up, Carrier: i.Carrier, Impair: i.Impair, Missing: i.Missing})
		}
	}
	return out, nil
}

// events streams a lab's events: state (nodes and interfaces, when they
// change), progress (of an up, reset, start...), check (each result as
// it completes) and op (an operation began or ended).
func (s *Server) events(w http.ResponseWriter, r *http.Request, q request) {
	s.hub.stream(w, r, "lab:"+q.lab.ID)
}

// classEvents streams a class's check results as they come.
func (s *Server) classEvents(w http.ResponseWriter, r *http.Request, q request) {
	id, err := strconv.ParseInt(r.PathValue("class"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such class")
		return
	}
	s.hub.stream(w, r, "class:"+strconv.FormatInt(id, 10))
}

// labName is the name of the lab of that id, looked up in the store once
// and then kept: a lab's row is never changed nor removed (the store has
// no statement that would), and the watched labs' state reads asked the
// store for it twice a second each (5 % of the server's CPU in a class
// of 30 coming up).
func (s *Server) labName(ctx context.Context, labID string) (string, error) {
	if name, ok := s.labNames.Load(labID); ok {
		return name.(string), nil
	}
	l, err := s.st.LabByID(ctx, labID)
	if err != nil {
		return "", err
	}
	s.labNames.Store(labID, l.Name)
	return l.Name, nil
}
