package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
)

// CookieName is the session cookie's name.
const CookieName = "netlab_session"

// CSRFHeader is the header every request that changes something carries,
// with the session's CSRF token (GET /api/me gives it).
const CSRFHeader = "X-CSRF-Token"

// request is an authorized request: its session, and the lab it names.
type request struct {
	session store.Session
	lab     store.Lab
}

type (
	userHandler func(w http.ResponseWriter, r *http.Request, q request)
	labHandler  func(w http.ResponseWriter, r *http.Request, q request)
)

// user requires a session (401 without) and, for anything but GET, the
// session's CSRF token in the X-CSRF-Token header (403 without).
func (s *Server) user(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, err := s.sessionOf(r)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "log in first (POST /api/login)")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !auth.SameToken(r.Header.Get(CSRFHeader), ss.CSRF) {
			s.auditf(r, ss.User.Name, "csrf", r.URL.Path, "refused")
			writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header: send the csrf token GET /api/me gives")
			return
		}
		h(w, r, request{session: ss})
	}
}

// teacher requires a teacher's session; a student gets 404, audited.
func (s *Server) teacher(h userHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, q request) {
		if q.session.User.Role != store.Teacher {
			s.auditf(r, q.session.User.Name, r.Method, r.URL.Path, "denied: not a teacher")
			writeError(w, http.StatusNotFound, errNotFound.Error())
			return
		}
		h(w, r, q)
	})
}

// labRoute authorizes a request against the owner of the lab {id} it
// names (and that a {node} it names is a node of that lab): a teacher
// reaches every lab, a student their own and their group's. Anything
// else answers 404, the same as a lab that does not exist, and is
// written to the audit log.
func (s *Server) labRoute(h labHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, q request) {
		l, err := s.st.LabByID(r.Context(), r.PathValue("id"))
		owns := err == nil && q.session.User.Role == store.Teacher
		if err == nil && !owns {
			owns, err = s.st.Owns(r.Context(), q.session.User.ID, l)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if !owns {
			s.auditf(r, q.session.User.Name, r.Method, r.URL.Path, "denied: not the lab's owner")
			writeError(w, http.StatusNotFound, "no such lab")
			return
		}
		q.lab = l
		h(w, r, q)
	})
}

// sessionOf finds the request's session from its cookie.
func (s *Server) sessionOf(r *http.Request) (store.Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return store.Session{}, store.ErrNotFound
	}
	return s.st.SessionOf(r.Context(), auth.HashToken(c.Value))
}

// startSession logs a user in: a new session, its cookie, and the
// answer GET /api/me gives.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User) {
	id, csrf := auth.NewToken(), auth.NewToken()
	expires := time.Now().Add(SessionLife)
	if err := s.st.AddSession(r.Context(), auth.HashToken(id), u.ID, csrf, expires); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.opts.TLS, SameSite: http.SameSiteStrictMode})
	s.auditf(r, u.Name, "login", "", "ok")
	writeJSON(w, http.StatusOK, me{User: u, CSRF: csrf})
}

// me is who is logged in, and the CSRF token their requests send.
type me struct {
	User store.User `json:"user"`
	CSRF string     `json:"csrf"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, q request) {
	writeJSON(w, http.StatusOK, me{User: q.session.User, CSRF: q.session.CSRF})
}

// login checks a name and password, at most 5 failures per name and 30
// per client address in 5 minutes (429 beyond, with Retry-After).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ Name, Password string }
	if !readJSON(w, r, &body) {
		return
	}
	addr := clientAddr(r)
	if !s.allowLogin(w, body.Name, addr) {
		s.auditf(r, body.Name, "login", "", "refused: too many failures")
		return
	}
	u, err := s.st.UserByName(r.Context(), body.Name)
	if err == nil {
		err = auth.VerifyPassword(u.PasswordHash, body.Password)
	}
	if err != nil {
		s.names.Fail(body.Name)
		s.addrs.Fail(addr)
		s.auditf(r, body.Name, "login", "", "failed")
		writeError(w, http.StatusUnauthorized, "wrong name or password")
		return
	}
	s.names.Reset(body.Name)
	s.startSession(w, r, u)
}

// allowLogin answers 429 when name or addr failed too often lately.
func (s *Server) allowLogin(w http.ResponseWriter, name, addr string) bool {
	ok1, wait1 := s.names.Allow(name)
	ok2, wait2 := s.addrs.Allow(addr)
	if ok1 && ok2 {
		return true
	}
	wait := max(wait1, wait2)
	w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins: try again in %s", wait.Round(time.Second)))
	return false
}

// loginToken logs in with a one-time login token (from a login link);
// the token then no longer works.
func (s *Server) loginToken(w http.ResponseWriter, r *http.Request) {
	var body struct{ Token string }
	if !readJSON(w, r, &body) {
		return
	}
	addr := clientAddr(r)
	if !s.allowLogin(w, "", addr) {
		return
	}
	u, err := s.st.UseLoginToken(r.Context(), auth.HashToken(body.Token))
	if err != nil {
		s.addrs.Fail(addr)
		s.auditf(r, "", "login link", "", "failed")
		writeError(w, http.StatusUnauthorized, "this login link is used, expired or wrong: ask your teacher for a new one")
		return
	}
	s.startSession(w, r, u)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, q request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.st.DeleteSession(r.Context(), auth.HashToken(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opts.TLS, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// password sets the user's password (at least 10 characters).
func (s *Server) password(w http.ResponseWriter, r *http.Request, q request) {
	var body struct{ Password string }
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Password) < 10 {
		writeError(w, http.StatusBadRequest, "a password has at least 10 characters")
		return
	}
	hash, err := auth.HashPassword(body.Password)
	if err == nil {
		err = s.st.SetPassword(r.Context(), q.session.User.ID, hash)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.auditf(r, q.session.User.Name, "password", "", "changed")
	w.WriteHeader(http.StatusNoContent)
}

// clientAddr is the request's client address, without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// auditf writes an audit entry for the request; a failure is logged.
func (s *Server) auditf(r *http.Request, user, action, object, outcome string) {
	err := s.st.Audit(context.WithoutCancel(r.Context()), store.AuditEntry{User: user, Client: clientAddr(r), Action: action, Object: object, Outcome: outcome})
	if err != nil {
		s.log.Error("audit", "err", err)
	}
}

// readJSON decodes a request's JSON body (at most 1 MiB; unknown fields
// are refused), answering 400 when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// apiError is every error's body.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// writeLabError answers a lab operation's error: 400 for what the request
// asked wrong, 500 for what failed on the host.
func writeLabError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if lab.IsUsage(err) || errors.Is(err, ErrUsage) {
		code = http.StatusBadRequest
	}
	writeError(w, code, err.Error())
}
