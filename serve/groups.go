package serve

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// A shared class has one lab for all its students (a class-wide
// Internet, say): each node may carry a group (`group:` in the lab file;
// the mini-Internet import sets it to the AS number), a student reaches
// the nodes of their roster group alone (terminals, node and interface
// controls, captures: another group's answers 404 and is audited), and
// everyone sees the lab's connectivity matrix (package matrix) and any
// router's looking glass (package lookingglass). Bringing the shared lab
// up, down or back to its file is the teacher's.

// sharedOwner is the owner key of a shared class's one lab.
const sharedOwner = "shared"

// groupLabs is what the shared-lab routes ask of the labs beyond Labs;
// *lab.Manager has it.
type groupLabs interface {
	Matrix(ctx context.Context, target string, opts matrix.Options) (*lab.MatrixResult, error)
	LookingGlass(ctx context.Context, target, router, prefix string) (*lookingglass.Glass, error)
}

var _ groupLabs = (*lab.Manager)(nil)

// checkGroups says whether every group of the roster has nodes in the
// lab file (data): a group without any would reach nothing.
func checkGroups(data []byte, roster []Member) error {
	var f struct {
		Nodes map[string]struct {
			Group string `yaml:"group"`
		} `yaml:"nodes"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return usagef("lab file: %v", err)
	}
	var have []string
	for _, n := range f.Nodes {
		if n.Group != "" && !slices.Contains(have, n.Group) {
			have = append(have, n.Group)
		}
	}
	slices.Sort(have)
	if len(have) == 0 {
		return usagef("a shared lab gives each group its nodes, and no node of the lab has a group: set group: on the nodes")
	}
	for _, m := range roster {
		if !slices.Contains(have, m.Group) {
			return usagef("roster: %s is in group %s, and no node of the lab is (the lab's groups: %s)", m.Name, m.Group, strings.Join(have, ", "))
		}
	}
	return nil
}

// restrictedGroup is the group whose nodes the request may reach in a
// shared lab, and whether it is restricted at all (a teacher is not, nor
// is anyone in a lab of their own).
func (s *Server) restrictedGroup(ctx context.Context, q request) (string, bool) {
	if !q.lab.Shared || q.session.User.Role == store.Teacher {
		return "", false
	}
	g, err := s.st.GroupOf(ctx, q.lab.ClassID, q.session.User.ID)
	if err != nil {
		return "", true // in no group: no node is theirs
	}
	return g, true
}

// nodeOfGroup tells whether the request may reach node of the lab l: in
// a shared lab a student reaches their group's nodes only. A refusal is
// audited.
func (s *Server) nodeOfGroup(r *http.Request, q request, l *spec.Lab, node string) bool {
	g, restricted := s.restrictedGroup(r.Context(), q)
	if !restricted {
		return true
	}
	if n := l.Nodes[node]; n != nil && g != "" && n.Group == g {
		return true
	}
	s.auditf(r, q.session.User.Name, r.Method, r.URL.Path, "denied: not a node of group "+g)
	return false
}

// teacherOfShared refuses (404, audited) a student's request that would
// change a shared lab as a whole (up, down, reset): that is the teacher's.
func (s *Server) teacherOfShared(w http.ResponseWriter, r *http.Request, q request) bool {
	if !q.lab.Shared || q.session.User.Role == store.Teacher {
		return true
	}
	s.auditf(r, q.session.User.Name, r.Method, r.URL.Path, "denied: the shared lab is the teacher's to start, stop and reset")
	writeError(w, http.StatusNotFound, "no such lab operation: your teacher starts, stops and resets the class's shared lab")
	return false
}

// labMatrix runs the lab's connectivity matrix: every group's host pings
// every other's; each pair reachable or not, and its path valid or not.
func (s *Server) labMatrix(w http.ResponseWriter, r *http.Request, q request) {
	g, ok := s.labs.(groupLabs)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this server's labs have no matrix")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	res, err := g.Matrix(ctx, q.lab.Name, matrix.Options{})
	s.auditf(r, q.session.User.Name, "matrix", q.lab.Name, outcome(err))
	if err != nil {
		writeLabError(w, err)
		return
	}
	good, invalid, unreachable := matrix.Count(res.Pairs)
	pairs := res.Pairs
	if pairs == nil {
		pairs = []matrix.Pair{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lab": q.lab.Name, "pairs": pairs, "good": good, "invalid": invalid,
		"unreachable": unreachable, "summary": matrix.Summary(res.Pairs)})
}

// labGlass is a router's looking glass (?prefix= for one prefix): any
// router of the lab, for everyone in it.
func (s *Server) labGlass(w http.ResponseWriter, r *http.Request, q request) {
	g, ok := s.labs.(groupLabs)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this server's labs have no looking glass")
		return
	}
	router, ok := nodeName(r, q)
	if !ok {
		writeError(w, http.StatusNotFound, "lab "+q.lab.Name+" has no node "+router)
		return
	}
	prefix := r.URL.Query().Get("prefix")
	if prefix != "" {
		if err := lookingglass.CheckPrefix(prefix); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	glass, err := g.LookingGlass(ctx, q.lab.Name, router, prefix)
	answer(w, glass, err)
}

// ourNode is the request's {node} if it is a node of the lab's file that
// the user may reach (in a shared lab, their group's); else it answers
// false, and a node of another group is audited.
func (s *Server) ourNode(r *http.Request, q request) (string, bool) {
	node := r.PathValue("node")
	l, err := spec.Load(q.lab.File)
	if err != nil || l.Nodes[node] == nil {
		return node, false
	}
	return node, s.nodeOfGroup(r, q, l, node)
}

// captureOfGroup refuses (404, audited) a capture a student of a shared
// lab may not make: of another group's node, or of a network (which
// carries other groups' traffic).
func (s *Server) captureOfGroup(w http.ResponseWriter, r *http.Request, q request, target string) bool {
	if _, restricted := s.restrictedGroup(r.Context(), q); !restricted {
		return true
	}
	node, _, isIface := strings.Cut(target, ":")
	l, err := spec.Load(q.lab.File)
	if err == nil && isIface && s.nodeOfGroup(r, q, l, node) {
		return true
	}
	if !isIface {
		s.auditf(r, q.session.User.Name, r.Method, r.URL.Path, "denied: a network of the shared lab")
	}
	writeError(w, http.StatusNotFound, "no such capture target: in the class's shared lab, capture an interface of your group's nodes")
	return false
}
