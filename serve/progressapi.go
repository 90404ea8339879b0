package serve

import (
	"net/http"

	"github.com/netlab/netlab/serve/progress"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// labProgress is the lab's progress over time: after each run of its
// checks, how many pass.
type labProgress struct {
	Lab    string           `json:"lab"`
	Owner  string           `json:"owner"`
	Total  int              `json:"total"` // the lab's checks
	Points []progress.Point `json:"points"`
}

func (s *Server) readProgress(r *http.Request, l store.Lab) (labProgress, error) {
	results, err := s.st.Results(r.Context(), l.ID)
	if err != nil {
		return labProgress{}, err
	}
	p := labProgress{Lab: l.Name, Owner: l.Owner, Points: progress.Points(results)}
	if parsed, err := spec.Load(l.File); err == nil {
		p.Total = len(parsed.Checks)
	}
	if p.Points == nil {
		p.Points = []progress.Point{}
	}
	return p, nil
}

// progressJSON answers the lab's progress points.
func (s *Server) progressJSON(w http.ResponseWriter, r *http.Request, q request) {
	p, err := s.readProgress(r, q.lab)
	answer(w, p, err)
}

// progressSVG draws the lab's progress over time (package progress).
func (s *Server) progressSVG(w http.ResponseWriter, r *http.Request, q request) {
	p, err := s.readProgress(r, q.lab)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(progress.SVG(p.Owner+": checks passing over time", p.Points, p.Total)))
}
