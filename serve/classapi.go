package serve

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

func classKey(id int64) string { return "class:" + strconv.FormatInt(id, 10) }

func (s *Server) listClasses(w http.ResponseWriter, r *http.Request, q request) {
	list, err := s.st.Classes(r.Context())
	answer(w, list, err)
}

// bundled lists the labs netlab carries, to make a class from.
func (s *Server) bundled(w http.ResponseWriter, r *http.Request, q request) {
	list, err := lab.BundledLabs(r.Context())
	answer(w, list, err)
}

// createClass makes a class from the teacher's page: a bundled lab (lab)
// or a lab file's content (lab_file), and a roster in CSV.
func (s *Server) createClass(w http.ResponseWriter, r *http.Request, q request) {
	var body struct {
		Name      string `json:"name"`
		Lab       string `json:"lab"`
		LabFile   string `json:"lab_file"`
		Roster    string `json:"roster"`
		Per       string `json:"per"`
		AllowHost bool   `json:"allow_host"`
		// Limits: per student (labs, nodes) and per node (cpus, memory, pids).
		Limits store.Limits `json:"limits"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	roster, err := ParseRoster(strings.NewReader(body.Roster))
	if err != nil {
		writeLabError(w, err)
		return
	}
	req := ClassRequest{Name: body.Name, Lab: body.Lab, Roster: roster, PerGroup: body.Per == "group", AllowHost: body.AllowHost,
		Shared: body.Per == "class", Limits: body.Limits}
	if body.LabFile != "" {
		req.LabData = []byte(body.LabFile)
	} else if strings.ContainsAny(body.Lab, "/.") {
		writeError(w, http.StatusBadRequest, "lab: give a bundled lab's name, or the lab file's content as lab_file")
		return
	}
	c, logins, err := CreateClass(r.Context(), s.st, s.opts.DataDir, req)
	s.auditf(r, q.session.User.Name, "create class", body.Name, outcome(err))
	if err != nil {
		writeLabError(w, err)
		return
	}
	type login struct {
		Login
		Link string `json:"link"`
	}
	out := struct {
		Class  store.Class `json:"class"`
		Logins []login     `json:"logins"`
	}{Class: c}
	for _, l := range logins {
		out.Logins = append(out.Logins, login{Login: l, Link: LoginLink(s.baseURL(r), l.Token)})
	}
	writeJSON(w, http.StatusCreated, out)
}

// baseURL is where students reach the server: --url, else the request's.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func outcome(err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return "ok"
}

// Grid is a class's results: a row per lab (its student or group), a
// column per check, each cell the check's latest result.
type Grid struct {
	Class  store.Class `json:"class"`
	Checks []string    `json:"checks"`
	Rows   []GridRow   `json:"rows"`
}

// GridRow is a lab's row of the grid.
type GridRow struct {
	Lab     store.Lab               `json:"lab"`
	Results map[string]store.Result `json:"results"` // by check name
}

// ClassGrid reads a class's grid.
func ClassGrid(r *http.Request, st *store.Store, classID int64) (Grid, error) {
	c, err := st.ClassByID(r.Context(), classID)
	if err != nil {
		return Grid{}, err
	}
	g := Grid{Class: c, Checks: []string{}, Rows: []GridRow{}}
	labs, err := st.ClassLabs(r.Context(), classID)
	if err != nil {
		return g, err
	}
	results, err := st.ClassResults(r.Context(), classID)
	if err != nil {
		return g, err
	}
	for _, l := range labs {
		if len(g.Checks) == 0 {
			if parsed, err := spec.Load(l.File); err == nil {
				for _, ch := range parsed.Checks {
					g.Checks = append(g.Checks, ch.Name)
				}
			}
		}
		row := GridRow{Lab: l, Results: map[string]store.Result{}}
		for _, res := range results {
			if res.LabID == l.ID {
				row.Results[res.Name] = res
			}
		}
		g.Rows = append(g.Rows, row)
	}
	return g, nil
}

// classID is the request's {class}; a class that does not exist is 404.
func (s *Server) classID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("class"), 10, 64)
	if err == nil {
		_, err = s.st.ClassByID(r.Context(), id)
	}
	if err != nil {
		writeError(w, http.StatusNotFound, "no such class")
		return 0, false
	}
	return id, true
}

func (s *Server) grid(w http.ResponseWriter, r *http.Request, q request) {
	id, ok := s.classID(w, r)
	if !ok {
		return
	}
	g, err := ClassGrid(r, s.st, id)
	answer(w, g, err)
}

// resultsCSV exports a class's grid: a line per lab, a column per check
// (pass, FAIL or empty), with when each check last ran.
func (s *Server) resultsCSV(w http.ResponseWriter, r *http.Request, q request) {
	id, ok := s.classID(w, r)
	if !ok {
		return
	}
	g, err := ClassGrid(r, s.st, id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", g.Class.Name+"-results.csv"))
	cw := csv.NewWriter(w)
	head := []string{"owner", "lab", "passed", "checked"}
	cw.Write(append(head, g.Checks...))
	for _, row := range g.Rows {
		passed, last := 0, time.Time{}
		cells := make([]string, len(g.Checks))
		for i, name := range g.Checks {
			res, ok := row.Results[name]
			switch {
			case !ok:
			case res.Passed:
				cells[i], passed = "pass", passed+1
			default:
				cells[i] = "FAIL"
			}
			if res.At.After(last) {
				last = res.At
			}
		}
		checked := ""
		if !last.IsZero() {
			checked = last.UTC().Format(time.RFC3339)
		}
		cw.Write(append([]string{row.Lab.Owner, row.Lab.Name, strconv.Itoa(passed), checked}, cells...))
	}
	cw.Flush()
}

// addUser adds a user with an initial password, from the teacher's page.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request, q request) {
	var body struct{ Name, Role, Email string }
	if !readJSON(w, r, &body) {
		return
	}
	u, password, err := AddUser(r.Context(), s.st, body.Name, body.Role, body.Email)
	s.auditf(r, q.session.User.Name, "add user", body.Name, outcome(err))
	switch {
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		writeLabError(w, err)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"user": u, "password": password})
	}
}

// audit gives the last 200 entries of the audit log.
func (s *Server) audit(w http.ResponseWriter, r *http.Request, q request) {
	list, err := s.st.AuditLog(r.Context(), 200)
	answer(w, list, err)
}

// AddUser adds a user with a random initial password, which it returns.
func AddUser(ctx context.Context, st *store.Store, name, role, email string) (store.User, string, error) {
	if !userRe.MatchString(name) {
		return store.User{}, "", usagef("%q is not a user name: 1 to 63 letters, digits, '.', '_' and '-', starting with a letter or digit", name)
	}
	if role != store.Teacher && role != store.Student {
		return store.User{}, "", usagef("role %q: a user is a teacher or a student", role)
	}
	password := auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.User{}, "", err
	}
	u, err := st.AddUser(ctx, store.User{Name: name, Role: role, Email: email, PasswordHash: hash})
	return u, password, err
}
