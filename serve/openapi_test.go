package serve

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIHasEveryRoute: every /api/ route the server registers is in
// its OpenAPI document (served at /api/openapi.json), and every
// operation the document has is a route.
func TestOpenAPIHasEveryRoute(t *testing.T) {
	f := newFixture(t)
	c := &client{t: t, base: f.srv.URL, http: f.srv.Client()}
	code, body := c.do("GET", "/api/openapi.json", "")
	if code != 200 {
		t.Fatalf("GET /api/openapi.json: %d %s", code, body)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v %.200s", err, body)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	s := New(Options{Store: f.st, Labs: f.labs})
	defer s.Close()
	s.Handler()
	var routes []string
	for _, r := range s.Routes() {
		if _, path, _ := strings.Cut(r, " "); strings.HasPrefix(path, "/api/") {
			routes = append(routes, r)
		}
	}
	if len(routes) < 30 {
		t.Fatalf("only %d /api/ routes registered: %v", len(routes), routes)
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in serve/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("serve/openapi.yaml has %s, which the server does not register", d)
		}
	}
	if code, body := c.do("GET", "/api/openapi.yaml", ""); code != 200 || !strings.HasPrefix(body, "openapi: 3.1") {
		t.Errorf("GET /api/openapi.yaml: %d %.80s", code, body)
	}
}
