// Package progress draws a lab's progress over time from its stored check
// results: after each run of the checks, how many of the lab's checks
// pass (each check counted by its latest result). The picture is an SVG
// step chart in black and grey, its points labelled with their counts
// and their shapes saying "all passed" (filled) or not (hollow), so it
// reads without colour.
package progress

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/serve/store"
)

// Point is the lab after a run of its checks.
type Point struct {
	At     time.Time `json:"at"`     // when the run's last result came
	Passed int       `json:"passed"` // checks passing, each by its latest result
	Run    int64     `json:"run"`
}

// Points are the lab's points, oldest first, from its results (in any
// order): one per run of the checks.
func Points(results []store.Result) []Point {
	rs := slices.Clone(results)
	slices.SortStableFunc(rs, func(a, b store.Result) int { return a.At.Compare(b.At) })
	latest := map[string]bool{}
	var out []Point
	for i, r := range rs {
		latest[r.Name] = r.Passed
		if i+1 < len(rs) && rs[i+1].Run == r.Run {
			continue // the run goes on
		}
		n := 0
		for _, ok := range latest {
			if ok {
				n++
			}
		}
		out = append(out, Point{At: r.At, Passed: n, Run: r.Run})
	}
	return out
}

// Size of the picture, and its margins (left for the counts, bottom for
// the times).
const (
	width, height          = 360.0, 140.0
	left, right, top, base = 34.0, 12.0, 30.0, 28.0
)

// SVG draws the points of a lab of total checks, titled title. Without
// points it says that the checks never ran.
func SVG(title string, pts []Point, total int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s" font-family="sans-serif" font-size="10">`,
		width, height, width, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, html.EscapeString(title))
	x0, x1, y0, y1 := left, width-right, height-base, top
	fmt.Fprintf(&b, `<path d="M%g %g V%g H%g" fill="none" stroke="#000"/>`, x0, y1, y0, x1)
	for _, n := range []int{0, total} {
		y := y0 - (y0-y1)*float64(n)/float64(max(total, 1))
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%d</text><path d="M%g %g H%g" stroke="#bbb" stroke-dasharray="2 3"/>`, x0-4, y+3, n, x0, y, x1)
	}
	fmt.Fprintf(&b, `<text x="%g" y="10" text-anchor="middle">checks passed of %d, after each run</text>`, (x0+x1)/2, total)
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">no checks run yet</text></svg>`, (x0+x1)/2, (y0+y1)/2)
		return b.String()
	}
	first, last := pts[0].At, pts[len(pts)-1].At
	span := last.Sub(first)
	xOf := func(p Point) float64 {
		if span <= 0 {
			return (x0 + x1) / 2
		}
		return x0 + 8 + (x1-x0-16)*float64(p.At.Sub(first))/float64(span)
	}
	yOf := func(p Point) float64 { return y0 - (y0-y1)*float64(p.Passed)/float64(max(total, 1)) }
	var d strings.Builder
	for i, p := range pts {
		if i == 0 {
			fmt.Fprintf(&d, "M%.1f %.1f", xOf(p), yOf(p))
		} else {
			fmt.Fprintf(&d, " H%.1f V%.1f", xOf(p), yOf(p))
		}
	}
	fmt.Fprintf(&b, `<path class="line" d="%s" fill="none" stroke="#000" stroke-width="1.5"/>`, d.String())
	label := len(pts) <= 12
	for i, p := range pts {
		fill := "#fff"
		if p.Passed == total && total > 0 {
			fill = "#000" // all passed: filled
		}
		fmt.Fprintf(&b, `<circle class="point" data-passed="%d" cx="%.1f" cy="%.1f" r="3.5" fill="%s" stroke="#000"><title>%s: %d of %d checks pass</title></circle>`,
			p.Passed, xOf(p), yOf(p), fill, p.At.UTC().Format("2006-01-02 15:04:05 UTC"), p.Passed, total)
		if label || i == len(pts)-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d/%d</text>`, xOf(p), yOf(p)-6, p.Passed, total)
		}
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text>`, x0, height-8, first.UTC().Format("Jan 2 15:04"))
	if span > 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, x1, height-8, last.UTC().Format("Jan 2 15:04"))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
