package serve

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"
)

// openAPI is the HTTP API's description (OpenAPI 3.1), served as
// /api/openapi.yaml and, converted, /api/openapi.json. A test fails when
// a route registered here is missing from it, or it has one that is not.
//
//go:embed openapi.yaml
var openAPI []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
})

// routeMux is a ServeMux that remembers the patterns registered on it,
// for the test that holds them and the API's description together.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Routes are the patterns ("METHOD /path") the server's Handler
// registered, in order.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// openAPIRoutes serve the API's description; anyone may read it.
func openAPIRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openAPI)
	})
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := openAPIJSON()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "the API description does not parse: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}
