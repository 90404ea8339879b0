package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// A class's limits: the per-node ones are written into each of its lab
// files (defaults.resources, and every node's own resources held to
// them), so that the lab's watcher, which makes nodes again from the file,
// keeps them; the per-student ones are checked when a lab starts.

// ErrLimit marks a start refused because the lab's owner would run more
// than their class allows: the API answers 409 with the reason.
var ErrLimit = errors.New("over the class's limit")

// sourceFile is the lab file as the class was made from it (renamed),
// beside the lab.yaml its limits are applied to: limits changed later are
// applied to it again.
const sourceFile = ".netlab-class-source.yaml" // hidden: the lab's own folder is copied beside it

// CheckLimits says what is wrong with limits a teacher gives, all at once.
func CheckLimits(l store.Limits) error {
	var errs []error
	if l.Labs < 0 || l.Nodes < 0 || l.LabNodes < 0 {
		errs = append(errs, usagef("limits: labs, nodes and lab_nodes are counts (0: no limit), not %d, %d and %d", l.Labs, l.Nodes, l.LabNodes))
	}
	if l.CPUs != 0 && (l.CPUs < spec.MinCPUs || l.CPUs > spec.MaxCPUs) {
		errs = append(errs, usagef("limits: cpus %g: give 0.01 to 1024 CPUs (0.5: half of one), or 0 for no limit", l.CPUs))
	}
	if l.Memory != "" {
		if b, err := spec.ParseSize(l.Memory); err != nil {
			errs = append(errs, usagef("limits: memory: %v", err))
		} else if b < spec.MinMemory {
			errs = append(errs, usagef("limits: memory %s is less than 6MiB, the least a node starts with", l.Memory))
		}
	}
	if l.Pids != 0 && (l.Pids < spec.MinPids || l.Pids > spec.MaxPids) {
		errs = append(errs, usagef("limits: pids %d: give at least %d (netlab's init, a shell and a check need a few), or 0 for no limit", l.Pids, spec.MinPids))
	}
	return errors.Join(errs...)
}

// fitsLimits says what is wrong when a class's lab of nodes nodes is
// bigger than its limits let a student run.
func fitsLimits(nodes int, l store.Limits) error {
	if l.LabNodes > 0 && nodes > l.LabNodes {
		return usagef("the lab has %d nodes, more than the %d a lab of the class may have: raise lab_nodes (--max-lab-nodes) or choose a smaller lab", nodes, l.LabNodes)
	}
	if l.Nodes > 0 && nodes > l.Nodes {
		return usagef("the lab has %d nodes, more than the %d a student may run at once: raise the nodes limit (--max-nodes) or choose a smaller lab", nodes, l.Nodes)
	}
	return nil
}

// ApplyLimits writes a class's per-node limits into a lab file:
// defaults.resources gets each limit (or keeps its own, if lower), and a
// node's own resources are held to them. The rest of the file, comments
// too, stays as it was.
func ApplyLimits(data []byte, l store.Limits) ([]byte, error) {
	if l.CPUs == 0 && l.Memory == "" && l.Pids == 0 {
		return data, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a lab file: its top level is not a mapping")
	}
	top := doc.Content[0]
	defaults := mapping(top, "defaults", true)
	capResources(mapping(defaults, "resources", true), l, true)
	if nodes := mapping(top, "nodes", false); nodes != nil {
		for i := 1; i < len(nodes.Content); i += 2 {
			if n := nodes.Content[i]; n.Kind == yaml.MappingNode {
				if r := mapping(n, "resources", false); r != nil {
					capResources(r, l, false)
				}
			}
		}
	}
	return yaml.Marshal(&doc)
}

// capResources holds a resources mapping to the limits; with add, it
// also gets the limits it does not give.
func capResources(r *yaml.Node, l store.Limits, add bool) {
	lower := func(key, limit string, less func(have, limit string) bool) {
		v := value(r, key)
		switch {
		case v == nil && add:
			r.Content = append(r.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: limit})
		case v != nil && (v.Kind != yaml.ScalarNode || !less(v.Value, limit)):
			*v = yaml.Node{Kind: yaml.ScalarNode, Value: limit}
		}
	}
	number := func(have, limit string) bool {
		a, err := strconv.ParseFloat(have, 64)
		b, _ := strconv.ParseFloat(limit, 64)
		return err == nil && a <= b
	}
	if l.CPUs != 0 {
		lower("cpus", strconv.FormatFloat(l.CPUs, 'f', -1, 64), number)
	}
	if l.Pids != 0 {
		lower("pids", strconv.FormatInt(l.Pids, 10), number)
	}
	if l.Memory != "" {
		lower("memory", l.Memory, func(have, limit string) bool {
			a, err := spec.ParseSize(have)
			b, _ := spec.ParseSize(limit)
			return err == nil && a <= b
		})
	}
}

// mapping is the mapping under key in m (made, with make, if missing).
func mapping(m *yaml.Node, key string, make bool) *yaml.Node {
	if v := value(m, key); v != nil {
		if v.Kind != yaml.MappingNode { // null, or a scalar the schema refuses later
			if !make {
				return nil
			}
			*v = yaml.Node{Kind: yaml.MappingNode, Style: v.Style}
		}
		return v
	}
	if !make {
		return nil
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

// value is the value under key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// limitLab writes a class lab's file from the sourceFile beside it with
// the class's limits applied.
func limitLab(file string, l store.Limits) error {
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), sourceFile))
	if err != nil {
		return fmt.Errorf("class lab: %w", err)
	}
	data, err := ApplyLimits(src, l)
	if err != nil {
		return usagef("lab file: %v", err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return fmt.Errorf("write lab file %s: %w", file, err)
	}
	return nil
}

// SetClassLimits sets a class's limits and writes them into its labs'
// files; a running lab's nodes take the per-node ones when it next
// starts (or its watcher makes a node again).
func SetClassLimits(ctx context.Context, st *store.Store, classID int64, l store.Limits) error {
	if err := CheckLimits(l); err != nil {
		return err
	}
	labs, err := st.ClassLabs(ctx, classID)
	if err != nil {
		return err
	}
	for _, lb := range labs {
		if f, err := spec.Load(lb.File); err == nil {
			if err := fitsLimits(len(f.Nodes), l); err != nil {
				return err
			}
		}
	}
	if err := st.SetLimits(ctx, classID, l); err != nil {
		return err
	}
	var errs []error
	for _, lb := range labs {
		if err := limitLab(lb.File, l); err != nil {
			errs = append(errs, fmt.Errorf("lab %s: %w", lb.Name, err))
		}
	}
	return errors.Join(errs...)
}

// reserveStart tells whether the lab's owner may start it under its
// class's limits: with it, they would run no more labs and nodes than the
// class allows, and the lab has no more nodes than a lab of the class may
// have. A lab that runs already (or is being started) may be brought up
// again, a repair, a reset or a stage, without counting as another lab;
// but it brings back every node of its file, so its nodes count as the
// file's (nodes), not as what was made of it: a lab whose up was cut
// short, or whose file grew, must still fit. (A stopped node counts as
// one made: its container stays.) The labs counted are those that
// run and those of the owner's starts under way; a start allowed is one
// of them until release is called (once the up ended), checked and
// recorded under the owner's lock so that starts at once are counted
// against each other. The error says what runs and what to do.
func (s *Server) reserveStart(ctx context.Context, lb store.Lab, nodes int) (release func(), err error) {
	lim, err := s.st.ClassLimits(ctx, lb.ClassID)
	if err != nil || (lim.Labs == 0 && lim.Nodes == 0 && lim.LabNodes == 0) {
		return func() {}, err
	}
	if lim.LabNodes > 0 && nodes > lim.LabNodes {
		return nil, fmt.Errorf("%w: this lab has %d nodes; class %s allows %d in a lab: ask your teacher", ErrLimit, nodes, lb.Class, lim.LabNodes)
	}
	key := ownerKey(lb)
	unlock := s.starts.lock(key)
	defer unlock()
	var theirs []store.Lab
	if lb.OwnerUser != 0 {
		theirs, err = s.st.LabsOf(ctx, lb.OwnerUser)
	} else {
		theirs, err = s.st.ClassLabs(ctx, lb.ClassID)
	}
	if err != nil {
		return nil, err
	}
	sums, err := s.labs.List(ctx)
	if err != nil {
		return nil, err
	}
	counted := s.starts.underWay(key) // lab name -> nodes
	for _, x := range sums {
		if slices.ContainsFunc(theirs, func(o store.Lab) bool { return o.Name == x.Lab && o.Owner == lb.Owner }) {
			counted[x.Lab] = x.Nodes // what runs of it, once it shows
		}
	}
	_, again := counted[lb.Name] // it runs, or starts: a repair, a reset, a stage
	var running []string
	total := 0
	for _, o := range theirs {
		if n, ok := counted[o.Name]; ok && o.Owner == lb.Owner && o.Name != lb.Name {
			running = append(running, o.Class+" ("+o.Name+")")
			total += n
		}
	}
	who := "you run"
	switch {
	case !again && lim.Labs > 0 && len(running) >= lim.Labs:
		return nil, fmt.Errorf("%w: %s %d lab(s) already, %s; class %s allows %d at once: stop one first", ErrLimit, who, len(running), strings.Join(running, ", "), lb.Class, lim.Labs)
	case lim.Nodes > 0 && total+nodes > lim.Nodes:
		this := "this lab has"
		if again {
			this = "this lab runs again with all its"
		}
		if len(running) == 0 {
			return nil, fmt.Errorf("%w: %s %d nodes; class %s allows %d nodes at once: ask your teacher", ErrLimit, this, nodes, lb.Class, lim.Nodes)
		}
		return nil, fmt.Errorf("%w: %s %d nodes already (%s), and %s %d nodes; class %s allows %d nodes at once: stop a lab first", ErrLimit, who, total, strings.Join(running, ", "), this, nodes, lb.Class, lim.Nodes)
	}
	return s.starts.add(key, lb.Name, nodes), nil
}

// limits answers a class's limits (GET) or sets them (POST).
func (s *Server) limits(w http.ResponseWriter, r *http.Request, q request) {
	id, ok := s.classID(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodGet {
		l, err := s.st.ClassLimits(r.Context(), id)
		answer(w, l, err)
		return
	}
	var l store.Limits
	if !readJSON(w, r, &l) {
		return
	}
	err := SetClassLimits(r.Context(), s.st, id, l)
	s.auditf(r, q.session.User.Name, "class limits", fmt.Sprintf("%d %+v", id, l), outcome(err))
	answer(w, l, err)
}

// fileNodes is how many nodes a lab file has (0 when it does not load:
// the up then says what is wrong with it).
func fileNodes(file string) int {
	if l, err := spec.Load(file); err == nil {
		return len(l.Nodes)
	}
	return 0
}

// overLimit answers 409 with the reason, and audits it as op, when
// starting the request's lab (or bringing all its nodes back: a reset)
// would take its owner over their class's limits. Else the start is
// counted against them until release is called.
func (s *Server) overLimit(w http.ResponseWriter, r *http.Request, q request, op string) (release func(), over bool) {
	release, err := s.reserveStart(r.Context(), q.lab, fileNodes(q.lab.File))
	if err == nil {
		return release, false
	}
	s.auditf(r, q.session.User.Name, op, q.lab.Name, "refused: "+err.Error())
	if errors.Is(err, ErrLimit) {
		writeError(w, http.StatusConflict, err.Error())
	} else {
		writeError(w, http.StatusInternalServerError, err.Error())
	}
	return nil, true
}
