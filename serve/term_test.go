package serve

import (
	"net/http/httptest"
	"testing"

	"github.com/netlab/netlab/engine"
)

// TestQuerySize: a terminal's size at open comes from ?cols=&rows=, both
// given and each 1 to 1000; anything else is no size (the shell's 80x24).
func TestQuerySize(t *testing.T) {
	for _, c := range []struct {
		query string
		want  engine.WindowSize
		ok    bool
	}{
		{"?cols=120&rows=40", engine.WindowSize{Cols: 120, Rows: 40}, true},
		{"?cols=1&rows=1000", engine.WindowSize{Cols: 1, Rows: 1000}, true},
		{"", engine.WindowSize{}, false},
		{"?cols=120", engine.WindowSize{}, false},
		{"?cols=0&rows=40", engine.WindowSize{}, false},
		{"?cols=1001&rows=40", engine.WindowSize{}, false},
		{"?cols=-5&rows=40", engine.WindowSize{}, false},
		{"?cols=70000&rows=40", engine.WindowSize{}, false},
		{"?cols=12x&rows=40", engine.WindowSize{}, false},
	} {
		got, ok := querySize(httptest.NewRequest("GET", "/api/labs/x/nodes/a/terminal"+c.query, nil))
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %v %v, want %v %v", c.query, got, ok, c.want, c.ok)
		}
	}
}
