package progress

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/serve/store"
)

func TestPointsCountEachCheckByItsLatestResult(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	r := func(run int64, min int, name string, passed bool) store.Result {
		return store.Result{Run: run, Name: name, Passed: passed, At: at.Add(time.Duration(min) * time.Minute)}
	}
	pts := Points([]store.Result{
		r(3, 20, "ping", true), // out of order: sorted by time
		r(1, 0, "ping", false), r(1, 0, "route", false), r(1, 0, "ospf", false),
		r(2, 10, "ping", true), r(2, 10, "route", false), r(2, 10, "ospf", true),
		r(3, 20, "route", true), r(3, 21, "ospf", true),
		r(4, 30, "route", false), // a run of one stage's check: the others keep their latest
	})
	want := []int{0, 2, 3, 2}
	if len(pts) != len(want) {
		t.Fatalf("%d points, want %d: %+v", len(pts), len(want), pts)
	}
	for i, p := range pts {
		if p.Passed != want[i] {
			t.Errorf("point %d: %d passed, want %d", i, p.Passed, want[i])
		}
	}
	if !pts[2].At.Equal(at.Add(21 * time.Minute)) {
		t.Errorf("run 3 ends at %v, want its last result's time", pts[2].At)
	}
}

func TestSVGReadsWithoutColour(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	svg := SVG("alice", []Point{{At: at, Passed: 1}, {At: at.Add(time.Hour), Passed: 3}}, 3)
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	for _, want := range []string{"1/3", "3/3", `data-passed="3"`, `fill="#000"`, `fill="#fff"`, "checks passed of 3", "Dec 4 10:00", "Dec 4 11:00", "<title>alice</title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the picture has no %q:\n%s", want, svg)
		}
	}
	for _, colour := range []string{"red", "green", "#c62828", "#2e7d32"} {
		if strings.Contains(svg, colour) {
			t.Errorf("the picture uses colour %s: it must read without", colour)
		}
	}
	if empty := SVG("bob", nil, 3); !strings.Contains(empty, "no checks run yet") {
		t.Errorf("no points: %s", empty)
	}
	if esc := SVG(`<x&"`, nil, 1); strings.Contains(esc, `<x&"`) {
		t.Errorf("the title is not escaped: %s", esc)
	}
}
