package matrix

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/netlab/netlab/lookingglass"
)

// Net is what a run needs of the running lab.
type Net interface {
	// Ping sends one echo request from node to addr and says whether a
	// reply came within limit, and what it saw. An error says the ping
	// could not be made (the node is not running).
	Ping(ctx context.Context, node string, addr netip.Addr, limit time.Duration) (bool, string, error)
	// Exec runs cmd in the node with sh -c: its output and exit status.
	Exec(ctx context.Context, node, cmd string) ([]byte, int, error)
}

// Pair is one cell of the matrix: from one AS's host to another's.
type Pair struct {
	From      string `json:"from"` // the source AS (its group)
	To        string `json:"to"`   // the destination AS
	FromHost  string `json:"from_host"`
	ToHost    string `json:"to_host"`
	Reachable bool   `json:"reachable"`
	Verdict   string `json:"verdict"` // valid, invalid, unknown or no-route
	ASPath    []int  `json:"as_path"` // as the source's router holds it, the origin last
	Detail    string `json:"detail,omitempty"`
}

// Symbol is the pair's mark in the table: ✓ reachable on a valid path,
// ! reachable against the relations, ? reachable on a path that cannot be
// judged, ✗ unreachable.
func (p Pair) Symbol() string {
	switch {
	case !p.Reachable:
		return "✗"
	case p.Verdict == Valid:
		return "✓"
	case p.Verdict == Invalid:
		return "!"
	}
	return "?"
}

// Good says the pair is reachable on a valid path.
func (p Pair) Good() bool { return p.Reachable && p.Verdict == Valid }

// Options tune a run.
type Options struct {
	Workers int           // pairs measured at once (default 16)
	Limit   time.Duration // how long one echo waits for its reply (default 1s)
	Tries   int           // echo requests before a pair is unreachable (default 3)
}

// Run measures every ordered pair of ASes, Workers at a time: pings from
// the source host to the destination host, and reads the source router's
// BGP path to the destination. Pairs come in the order of the plan.
func Run(ctx context.Context, p *Plan, n Net, opts Options) []Pair {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.Limit <= 0 {
		opts.Limit = time.Second
	}
	if opts.Tries <= 0 {
		opts.Tries = 3
	}
	var pairs []Pair
	var ends [][2]AS
	for _, a := range p.ASes {
		for _, b := range p.ASes {
			if a.Group != b.Group {
				pairs = append(pairs, Pair{From: a.Group, To: b.Group, FromHost: a.Host, ToHost: b.Host, ASPath: []int{}})
				ends = append(ends, [2]AS{a, b})
			}
		}
	}
	sem := make(chan struct{}, opts.Workers)
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.measure(ctx, n, opts, ends[i][0], ends[i][1], &pairs[i])
		}()
	}
	wg.Wait()
	return pairs
}

// measure fills in one pair.
func (p *Plan) measure(ctx context.Context, n Net, opts Options, a, b AS, out *Pair) {
	var detail string
	for try := 0; try < opts.Tries && ctx.Err() == nil; try++ {
		ok, d, err := n.Ping(ctx, a.Host, b.Addr, opts.Limit)
		if err != nil {
			detail = err.Error()
			break
		}
		detail = d
		if ok {
			out.Reachable = true
			break
		}
	}
	out.Verdict, out.Detail = NoRoute, "no BGP route"
	if a.Router == "" {
		out.Detail = fmt.Sprintf("group %s has no BGP router to read the path from", a.Group)
	} else if path, err := bestPath(ctx, n, a.Router, b.Addr); err != nil {
		out.Detail = err.Error()
	} else if path != nil {
		out.ASPath = path.ASPath
		out.Verdict, out.Detail = p.Judge(a.Number, path.ASPath)
	}
	if !out.Reachable {
		out.Detail = joinDetail(detail, out.Detail)
	}
}

// bestPath is the best BGP path the router holds to addr, or nil.
func bestPath(ctx context.Context, n Net, router string, addr netip.Addr) (*lookingglass.Path, error) {
	out, code, err := n.Exec(ctx, router, lookingglass.PrefixCommand(addr.String()))
	if err != nil {
		return nil, fmt.Errorf("read the BGP path on %s: %w", router, err)
	}
	if code != 0 {
		return nil, fmt.Errorf("read the BGP path on %s: vtysh exit %d: %s", router, code, lookingglass.FirstLine(out))
	}
	paths, err := lookingglass.ParsePrefix(out)
	if err != nil {
		return nil, fmt.Errorf("router %s: %w", router, err)
	}
	return lookingglass.Best(paths), nil
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// Count says how many pairs are good (reachable and valid), reachable
// against the relations, and unreachable; the rest cannot be judged.
func Count(pairs []Pair) (good, invalid, unreachable int) {
	for _, p := range pairs {
		switch {
		case !p.Reachable:
			unreachable++
		case p.Verdict == Valid:
			good++
		case p.Verdict == Invalid:
			invalid++
		}
	}
	return good, invalid, unreachable
}

// Summary is a line: "12 pairs: 10 ✓ reachable and valid, 1 ! against policy, 1 ✗ unreachable".
func Summary(pairs []Pair) string {
	good, invalid, unreachable := Count(pairs)
	s := fmt.Sprintf("%d pairs: %d ✓ reachable and valid, %d ! against policy, %d ✗ unreachable", len(pairs), good, invalid, unreachable)
	if other := len(pairs) - good - invalid - unreachable; other > 0 {
		s += fmt.Sprintf(", %d ? not judged", other)
	}
	return s
}
