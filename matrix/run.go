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
	// Ping sends one echo request from node to each of addrs, all at
	// once, and says for each whether a reply came within limit and what
	// was seen. An error says node could not be reached (it is not
	// running).
	Ping(ctx context.Context, node string, addrs []netip.Addr, limit time.Duration) ([]Echo, error)
	// Exec runs cmd in the node with sh -c: its output and exit status.
	Exec(ctx context.Context, node, cmd string) ([]byte, int, error)
}

// Echo is what one echo request saw.
type Echo struct {
	OK     bool   // a reply came
	Detail string // what was seen: the reply, an ICMP error, or no reply
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
	Workers int           // source ASes (and routers read) at once (default 16)
	Limit   time.Duration // how long one echo waits for its reply (default 1s)
	Tries   int           // rounds of echo requests before a pair is unreachable (default 3)
	// Wait, before the run, pings in rounds (no router is read: a table
	// read is an exec in a router, which costs the routers' start-up CPU
	// it waits for) until every pair answers in one round or Wait has
	// passed; until each has answered once, a round pings only those that
	// have not.
	Wait time.Duration
	// Progress, when set, hears after each waiting round how many pairs
	// have answered, of how many.
	Progress func(answered, pairs int)
}

// Run measures every ordered pair of ASes: each source host pings every
// other AS's host at once, and then again only those that did not answer
// (up to Tries rounds); each router is asked once for its whole BGP table,
// from which the path to every destination is read. Workers sources and
// routers are measured at once. Pairs come in the order of the plan.
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
	if opts.Wait > 0 {
		p.waitAnswered(ctx, n, opts)
	}
	echoes := make([][]Echo, len(p.ASes)) // by source, by destination
	tables := map[string]*table{}
	var jobs []func()
	for i, a := range p.ASes {
		jobs = append(jobs, func() { echoes[i] = p.pingFrom(ctx, n, opts, i) })
		if a.Router != "" && tables[a.Router] == nil {
			t := &table{}
			tables[a.Router] = t
			jobs = append(jobs, func() { t.paths, t.err = readTable(ctx, n, a.Router) })
		}
	}
	inPool(opts.Workers, jobs)
	var pairs []Pair
	for i, a := range p.ASes {
		for j, b := range p.ASes {
			if i != j {
				pairs = append(pairs, p.pair(a, b, echoes[i][j], tables[a.Router]))
			}
		}
	}
	return pairs
}

// waitAnswered pings in rounds, opts.Workers sources at once, a second
// apart, until every pair answers, opts.Wait has passed or ctx ends. A
// round pings only the pairs that have not answered yet, and once each has
// answered, every pair again: the wait ends when one round has every pair
// answering. (At 30 ASes a round of all 870 pairs, while most answered,
// was the matrix's own load on the routers' start.)
func (p *Plan) waitAnswered(ctx context.Context, n Net, opts Options) {
	deadline := time.Now().Add(opts.Wait)
	pending := make([][]int, len(p.ASes)) // by source: destinations not answered yet; nil: all
	full := true                          // this round pings every pair
	total := len(p.ASes) * (len(p.ASes) - 1)
	for ctx.Err() == nil {
		next := make([][]int, len(p.ASes))
		jobs := make([]func(), len(p.ASes))
		for i := range p.ASes {
			jobs[i] = func() {
				todo := pending[i]
				if full {
					todo = p.others(i)
				}
				echoes := p.pingTo(ctx, n, opts, i, todo)
				for _, j := range todo {
					if !echoes[j].OK {
						next[i] = append(next[i], j)
					}
				}
			}
		}
		inPool(opts.Workers, jobs)
		left := 0
		for _, todo := range next {
			left += len(todo)
		}
		if opts.Progress != nil {
			opts.Progress(total-left, total)
		}
		if left == 0 && full || time.Now().After(deadline) {
			return
		}
		// Every pair has answered (in this round or before): all once more.
		full = left == 0
		pending = next
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// inPool runs the jobs, workers at once, and returns when all are done.
func inPool(workers int, jobs []func()) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			job()
		}()
	}
	wg.Wait()
}

// table is a router's BGP table, or why it could not be read.
type table struct {
	paths []lookingglass.Path
	err   error
}

// others are the ASes other than i, by index.
func (p *Plan) others(i int) []int {
	out := make([]int, 0, len(p.ASes)-1)
	for j := range p.ASes {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// pingFrom pings every other AS's host from AS i's host (pingTo).
func (p *Plan) pingFrom(ctx context.Context, n Net, opts Options, i int) []Echo {
	return p.pingTo(ctx, n, opts, i, p.others(i))
}

// pingTo pings the hosts of the ASes todo from AS i's host: all at once,
// then again those that did not answer, up to opts.Tries rounds. The
// result is by destination (other entries are empty).
func (p *Plan) pingTo(ctx context.Context, n Net, opts Options, i int, todo []int) []Echo {
	out := make([]Echo, len(p.ASes))
	for try := 0; try < opts.Tries && len(todo) > 0 && ctx.Err() == nil; try++ {
		addrs := make([]netip.Addr, len(todo))
		for k, j := range todo {
			addrs[k] = p.ASes[j].Addr
		}
		got, err := n.Ping(ctx, p.ASes[i].Host, addrs, opts.Limit)
		if err != nil {
			for _, j := range todo {
				out[j] = Echo{Detail: err.Error()}
			}
			break
		}
		var again []int
		for k, j := range todo {
			if k < len(got) {
				out[j] = got[k]
			}
			if !out[j].OK {
				again = append(again, j)
			}
		}
		todo = again
	}
	return out
}

// readTable reads the router's whole BGP table.
func readTable(ctx context.Context, n Net, router string) ([]lookingglass.Path, error) {
	out, code, err := n.Exec(ctx, router, lookingglass.TableCommand)
	if err != nil {
		return nil, fmt.Errorf("read the BGP table on %s: %w", router, err)
	}
	if code != 0 {
		return nil, fmt.Errorf("read the BGP table on %s: vtysh exit %d: %s", router, code, lookingglass.FirstLine(out))
	}
	paths, err := lookingglass.ParseTable(out)
	if err != nil {
		return nil, fmt.Errorf("router %s: %w", router, err)
	}
	return paths, nil
}

// pair judges the pair from a to b: its echo, and the path to b's host in
// the table of a's router (nil if a has none).
func (p *Plan) pair(a, b AS, echo Echo, t *table) Pair {
	out := Pair{From: a.Group, To: b.Group, FromHost: a.Host, ToHost: b.Host, ASPath: []int{}, Reachable: echo.OK}
	out.Verdict, out.Detail = NoRoute, "no BGP route"
	switch {
	case t == nil:
		out.Detail = fmt.Sprintf("group %s has no BGP router to read the path from", a.Group)
	case t.err != nil:
		out.Detail = t.err.Error()
	default:
		if path := lookingglass.BestTo(t.paths, b.Addr); path != nil {
			out.ASPath = append(out.ASPath, path.ASPath...)
			out.Verdict, out.Detail = p.Judge(a.Number, path.ASPath)
		}
	}
	if !out.Reachable {
		out.Detail = joinDetail(echo.Detail, out.Detail)
	}
	return out
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
