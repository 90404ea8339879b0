// Package serve is netlab's class server: an HTTP server that gives a
// class's students their labs in the browser and their teacher the
// class's results. It keeps its state in package store, checks
// passwords and tokens with package auth, and drives labs through
// package lab (in-process, as the command line does). Every request that
// names a lab is authorized against the lab's owner in one place
// (Server.labRoute): another's lab answers 404 and is audited.
package serve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/web"
)

// Labs is what the server asks of the lab lifecycle; *lab.Manager has it.
type Labs interface {
	Up(ctx context.Context, l *spec.Lab, opts lab.UpOptions) (*lab.UpResult, error)
	Down(ctx context.Context, name string, opts lab.DownOptions) (lab.DownResult, error)
	Live(ctx context.Context, name string) (*lab.Status, error) // what a page shows
	Check(ctx context.Context, target string, opts lab.CheckOptions) (*lab.CheckResult, error)
	Reset(ctx context.Context, target string, opts lab.ResetOptions) (*spec.Lab, error)
	Stop(ctx context.Context, name, node string) error
	Start(ctx context.Context, name, node string, progress lab.Progress) error
	Restart(ctx context.Context, name, node string, progress lab.Progress) error
	Link(ctx context.Context, name, node, iface string, up bool) (lab.LinkResult, error)
	Impair(ctx context.Context, name, node, iface string, im lab.Impairment, progress lab.Progress) (*spec.Link, error)
	Exec(ctx context.Context, name, node string, argv []string, stdio lab.Stdio) (int, error)
	Capture(ctx context.Context, opts capture.Options, stdout, stderr io.Writer) error
	List(ctx context.Context) ([]lab.Summary, error)
}

var _ Labs = (*lab.Manager)(nil)

// Options configure a Server.
type Options struct {
	Store   *store.Store
	Labs    Labs
	DataDir string
	// TLS: the server is reached over HTTPS (cookies are Secure).
	TLS bool
	// Runtime runs the labs' nodes ("": each lab file's, else docker).
	Runtime string
	// BaseURL is the server's address as students reach it, for login
	// links made from the teacher's page.
	BaseURL string
	// MaxStarts is how many labs are brought up at once; a start beyond
	// waits its turn, its page told so (0: no limit).
	MaxStarts int
	Log       *slog.Logger
}

// Server is the class server.
type Server struct {
	opts   Options
	st     *store.Store
	labs   Labs
	log    *slog.Logger
	hub    *hub
	terms  terms         // the open terminals
	starts starts        // the starts under way, counted against limits
	slots  chan struct{} // a start's turn (Options.MaxStarts); nil: no limit
	routes []string      // the patterns Handler registered
	names  *auth.Limiter // failed logins per user name
	addrs  *auth.Limiter // failed logins per client address

	labNames sync.Map // lab id -> name, as the page's state reads look it up (labName)
}

// SessionLife is how long a login lasts.
const SessionLife = 12 * time.Hour

// New makes a server.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, st: opts.Store, labs: opts.Labs, log: opts.Log,
		names: auth.NewLimiter(5, 5*time.Minute), addrs: auth.NewLimiter(30, 5*time.Minute)}
	s.hub = newHub(s.poll, 500*time.Millisecond)
	if opts.MaxStarts > 0 {
		s.slots = make(chan struct{}, opts.MaxStarts)
	}
	return s
}

// Handler is the server's HTTP handler: the pages, the JSON API under
// /api/, the events and the websockets.
func (s *Server) Handler() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	defer func() { s.routes = mux.patterns }()
	files := http.FileServerFS(web.Files())
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, web.Files(), "index.html")
	})
	mux.HandleFunc("POST /api/login", s.login)
	mux.HandleFunc("POST /api/login/token", s.loginToken)
	mux.HandleFunc("POST /api/logout", s.user(s.logout))
	mux.HandleFunc("GET /api/me", s.user(s.me))
	mux.HandleFunc("POST /api/password", s.user(s.password))
	mux.HandleFunc("GET /api/labs", s.user(s.listLabs))
	mux.HandleFunc("GET /api/bundled", s.teacher(s.bundled))
	s.labRoutes(mux)
	s.classRoutes(mux)
	openAPIRoutes(mux)
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

// labRoutes are the routes of one lab, each authorized against its owner.
func (s *Server) labRoutes(mux *routeMux) {
	route := func(pattern string, h labHandler) { mux.HandleFunc(pattern, s.labRoute(h)) }
	route("GET /api/labs/{id}", s.labDetail)
	route("GET /api/labs/{id}/topology.svg", s.topology)
	route("GET /api/labs/{id}/events", s.events)
	route("GET /api/labs/{id}/results", s.labResults)
	route("GET /api/labs/{id}/progress", s.progressJSON)
	route("GET /api/labs/{id}/progress.svg", s.progressSVG)
	route("POST /api/labs/{id}/up", s.up)
	route("POST /api/labs/{id}/down", s.down)
	route("POST /api/labs/{id}/reset", s.reset)
	route("POST /api/labs/{id}/check", s.check)
	route("POST /api/labs/{id}/nodes/{node}/{action}", s.nodeAction)
	route("POST /api/labs/{id}/nodes/{node}/interfaces/{iface}/{action}", s.ifaceAction)
	route("GET /api/labs/{id}/nodes/{node}/terminal", s.terminal)
	route("GET /api/labs/{id}/terminals", s.labTerminals)
	route("GET /api/labs/{id}/terminals/{term}/watch", s.watchTerminal(false))
	route("GET /api/labs/{id}/terminals/{term}/take", s.watchTerminal(true))
	route("GET /api/labs/{id}/matrix", s.labMatrix)
	route("GET /api/labs/{id}/lg/{node}", s.labGlass)
	route("GET /api/labs/{id}/capture", s.captureLines)
	route("GET /api/labs/{id}/capture.pcap", s.capturePcap)
}

// classRoutes are the teacher's routes.
func (s *Server) classRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/classes", s.teacher(s.listClasses))
	mux.HandleFunc("POST /api/classes", s.teacher(s.createClass))
	mux.HandleFunc("GET /api/classes/{class}/grid", s.teacher(s.grid))
	mux.HandleFunc("GET /api/classes/{class}/results.csv", s.teacher(s.resultsCSV))
	mux.HandleFunc("POST /api/classes/{class}/stage", s.teacher(s.setStage))
	mux.HandleFunc("GET /api/classes/{class}/events", s.teacher(s.classEvents))
	mux.HandleFunc("GET /api/classes/{class}/terminals", s.teacher(s.classTerminals))
	mux.HandleFunc("GET /api/classes/{class}/limits", s.teacher(s.limits))
	mux.HandleFunc("POST /api/classes/{class}/limits", s.teacher(s.limits))
	mux.HandleFunc("POST /api/users", s.teacher(s.addUser))
	mux.HandleFunc("GET /api/audit", s.teacher(s.audit))
}

// securityHeaders are the headers every answer carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// Reconcile matches the labs running on this host to the database's, at
// start: labs keep running while the server restarts. It logs what it
// found and returns the names of the class labs that run.
func (s *Server) Reconcile(ctx context.Context) ([]string, error) {
	running, err := s.labs.List(ctx)
	if err != nil {
		return nil, err
	}
	known, err := s.st.Labs(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]bool{}
	for _, l := range known {
		byName[l.Name] = true
	}
	var found []string
	for _, r := range running {
		if byName[r.Lab] {
			found = append(found, r.Lab)
		}
	}
	s.log.Info("labs found running again", "class_labs", len(found), "of_known", len(known), "labs_on_host", len(running))
	return found, nil
}

// Close stops the server's pollers.
func (s *Server) Close() { s.hub.close() }

// errNotFound is what a lab, node or class answers that does not exist
// or is not the user's: the two look the same.
var errNotFound = errors.New("not found")
