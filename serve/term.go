package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/lab"
)

// accept upgrades to a websocket. coder/websocket refuses a browser
// request whose Origin is not this host (a page of another site cannot
// open a student's terminal with their cookie).
func accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	return websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
}

// closeReason fits a message into a websocket close frame (123 bytes).
func closeReason(msg string) string {
	if len(msg) > 120 {
		msg = msg[:117] + "..."
	}
	return msg
}

// terminal is a shell on a node over a websocket: binary messages are the
// terminal's bytes both ways; a text message {"cols":C,"rows":R} resizes
// it. The socket closes with "exit N" when the shell ends.
func (s *Server) terminal(w http.ResponseWriter, r *http.Request, q request) {
	node, ok := s.ourNode(r, q)
	if !ok {
		writeError(w, http.StatusNotFound, "lab "+q.lab.Name+" has no node "+node)
		return
	}
	c, err := accept(w, r)
	if err != nil {
		return // Accept answered
	}
	s.auditf(r, q.session.User.Name, "terminal", q.lab.Name+"/"+node, "opened")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	in, inw := io.Pipe()
	sizes := make(chan engine.WindowSize, 8)
	var sizeMu sync.Mutex
	var last []byte // the last size message, for watchers
	// The page's size at open (?cols=&rows=) is the shell's first: a
	// size message races the shell's start.
	if size, ok := querySize(r); ok {
		sizes <- size
		last, _ = json.Marshal(map[string]uint16{"cols": size.Cols, "rows": size.Rows})
	}
	t := &sharedTerm{ID: newID() + newID(), LabID: q.lab.ID, Lab: q.lab.Name, Owner: q.lab.Owner, Node: node,
		User: q.session.User.Name, Opened: time.Now(), in: inw, owner: c, ctx: ctx,
		size: func() []byte { sizeMu.Lock(); defer sizeMu.Unlock(); return last }}
	s.terms.add(t)
	hello, _ := json.Marshal(map[string]string{"id": t.ID}) // the page's name for it
	c.Write(ctx, websocket.MessageText, hello)
	s.termChanged(t, q.lab.ClassID, false)
	defer func() {
		s.terms.remove(t.ID)
		s.termChanged(t, q.lab.ClassID, true)
	}()
	go func() {
		defer inw.Close()
		defer cancel() // the page went: end the shell
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				t.ownerTyped(data)
				continue
			}
			var size struct{ Cols, Rows uint16 }
			if json.Unmarshal(data, &size) == nil && size.Cols > 0 && size.Rows > 0 {
				sizeMu.Lock()
				last = data
				sizeMu.Unlock()
				select {
				case sizes <- engine.WindowSize{Cols: size.Cols, Rows: size.Rows}:
				default:
				}
			}
		}
	}()
	code, err := s.labs.Exec(ctx, q.lab.Name, node, nil, lab.Stdio{In: in, Out: t, TTY: true, Resize: sizes})
	msg := fmt.Sprintf("exit %d", code)
	if err != nil {
		msg = err.Error()
	}
	c.Close(websocket.StatusNormalClosure, closeReason(msg))
}

// querySize is a terminal's size from ?cols=&rows=, each 1 to 1000.
func querySize(r *http.Request) (engine.WindowSize, bool) {
	cols, errC := strconv.ParseUint(r.URL.Query().Get("cols"), 10, 16)
	rows, errR := strconv.ParseUint(r.URL.Query().Get("rows"), 10, 16)
	if errC != nil || errR != nil || cols < 1 || rows < 1 || cols > 1000 || rows > 1000 {
		return engine.WindowSize{}, false
	}
	return engine.WindowSize{Cols: uint16(cols), Rows: uint16(rows)}, true
}

// captureTarget is the request's capture target (?target=NODE:IF or a
// network) and filter; capture resolves it within the lab alone.
func captureTarget(r *http.Request, q request) capture.Options {
	return capture.Options{Lab: q.lab.Name, Target: r.URL.Query().Get("target"), Filter: r.URL.Query().Get("filter")}
}

// captureLines is the packet view: a websocket that carries a text
// message per captured frame (the line netlab capture prints), until the
// page closes it.
func (s *Server) captureLines(w http.ResponseWriter, r *http.Request, q request) {
	opts := captureTarget(r, q)
	if opts.Target == "" {
		writeError(w, http.StatusBadRequest, "give ?target=NODE:IFACE or a network's name")
		return
	}
	if !s.captureOfGroup(w, r, q, opts.Target) {
		return
	}
	c, err := accept(w, r)
	if err != nil {
		return
	}
	s.auditf(r, q.session.User.Name, "capture", q.lab.Name+"/"+opts.Target, "opened")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // the page only closes; a read error (its close) ends the capture
		defer cancel()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	opts.Frames = func(f capture.Frame) error {
		return c.Write(ctx, websocket.MessageText, []byte(f.Summary))
	}
	err = s.labs.Capture(ctx, opts, io.Discard, io.Discard)
	msg := "capture ended"
	if err != nil && ctx.Err() == nil {
		msg = err.Error()
	}
	c.Close(websocket.StatusNormalClosure, closeReason(msg))
}

// capturePcap captures ?count= frames (default 100, at most 10000) for at
// most ?seconds= (default 10, at most 60) and answers them as a pcap file.
func (s *Server) capturePcap(w http.ResponseWriter, r *http.Request, q request) {
	opts := captureTarget(r, q)
	if opts.Target == "" {
		writeError(w, http.StatusBadRequest, "give ?target=NODE:IFACE or a network's name")
		return
	}
	if !s.captureOfGroup(w, r, q, opts.Target) {
		return
	}
	opts.Count = bounded(r.URL.Query().Get("count"), 100, 10000)
	opts.Duration = time.Duration(bounded(r.URL.Query().Get("seconds"), 10, 60)) * time.Second
	opts.File = "-"
	var buf bytes.Buffer
	s.auditf(r, q.session.User.Name, "capture pcap", q.lab.Name+"/"+opts.Target, "started")
	if err := s.labs.Capture(r.Context(), opts, &buf, io.Discard); err != nil {
		writeLabError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", q.lab.Name+".pcap"))
	w.Write(buf.Bytes())
}

// bounded is a query's number, def when absent or bad, at most max.
func bounded(v string, def, max int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}
