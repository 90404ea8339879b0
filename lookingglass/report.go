package lookingglass

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/netlab/netlab/table"
)

// WriteJSON writes the glass as JSON.
func WriteJSON(w io.Writer, g *Glass) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g)
}

// WriteTable writes the BGP paths, then the routes, as two tables.
func WriteTable(w io.Writer, g *Glass) error {
	fmt.Fprintf(w, "BGP paths on %s%s (> best)\n", g.Router, about(g.Prefix))
	t := table.New(w)
	t.Header("", "PREFIX", "AS PATH", "NEXT HOP", "LOCAL PREF", "COMMUNITIES", "FROM")
	for _, p := range g.BGP {
		mark, path, from := "", "(own)", "internal"
		if p.Best {
			mark = ">"
		}
		if len(p.ASPath) > 0 {
			path = ints(p.ASPath)
		}
		switch {
		case p.Peer == "":
			from = "this router"
		case p.External:
			from = "eBGP " + p.Peer
		default:
			from = "iBGP " + p.Peer
		}
		t.Append(mark, p.Prefix, path, p.NextHop, fmt.Sprint(p.LocalPref), strings.Join(p.Communities, " "), from)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nroutes on %s%s (> selected, * installed)\n", g.Router, about(g.Prefix))
	t = table.New(w)
	t.Header("", "PREFIX", "PROTOCOL", "DISTANCE/METRIC", "NEXT HOPS")
	for _, r := range g.Routes {
		mark := ""
		if r.Selected {
			mark = ">"
		}
		if r.Installed {
			mark += "*"
		}
		t.Append(mark, r.Prefix, r.Protocol, fmt.Sprintf("%d/%d", r.Distance, r.Metric), strings.Join(r.NextHops, ", "))
	}
	return t.Render()
}

func about(prefix string) string {
	if prefix == "" {
		return ""
	}
	return " for " + prefix
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " ")
}
