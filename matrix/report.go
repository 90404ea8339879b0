package matrix

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netlab/netlab/spec"
)

// Report is the JSON form of a run.
type Report struct {
	Lab   string `json:"lab"`
	Pairs []Pair `json:"pairs"`
	Good  bool   `json:"good"` // every pair reachable and valid
}

// NewReport is the report of the lab's pairs.
func NewReport(lab string, pairs []Pair) Report {
	good, _, _ := Count(pairs)
	return Report{Lab: lab, Pairs: pairs, Good: good == len(pairs)}
}

// WriteJSON writes the pairs as a Report.
func WriteJSON(w io.Writer, lab string, pairs []Pair) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewReport(lab, pairs))
}

// WriteReport writes the report's pairs as WriteTable does.
func WriteReport(w io.Writer, r Report) error { return WriteTable(w, r.Pairs) }

// WriteTable writes the matrix as a grid of symbols, a row per source AS
// and a column per destination, then a line for every pair that is not
// reachable on a valid path, and the summary. It needs no colour.
func WriteTable(w io.Writer, pairs []Pair) error {
	var groups []string
	cell := map[[2]string]Pair{}
	for _, p := range pairs {
		for _, g := range []string{p.From, p.To} {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		cell[[2]string{p.From, p.To}] = p
	}
	slices.SortFunc(groups, spec.CompareGroups)
	width := len("from\\to")
	for _, g := range groups {
		width = max(width, len(g))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", width, "from\\to")
	for _, g := range groups {
		fmt.Fprintf(&b, " %*s", width, g)
	}
	b.WriteString("\n")
	for _, from := range groups {
		fmt.Fprintf(&b, "%-*s", width, from)
		for _, to := range groups {
			mark := "·"
			if p, ok := cell[[2]string{from, to}]; ok {
				mark = p.Symbol()
			}
			fmt.Fprintf(&b, " %*s", width, mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n✓ reachable, valid path   ! reachable, against policy   ✗ unreachable   ? path not judged\n")
	for _, p := range pairs {
		if !p.Good() {
			fmt.Fprintf(&b, "%s %s -> %s (%s -> %s): %s, AS path [%s]: %s\n", p.Symbol(), p.From, p.To, p.FromHost, p.ToHost,
				p.Verdict, joinInts(p.ASPath), p.Detail)
		}
	}
	b.WriteString(Summary(pairs) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " ")
}
