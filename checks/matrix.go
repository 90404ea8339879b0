package checks

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/spec"
)

var _ matrix.Net = (*NetProber)(nil)

// Ping sends one echo request from node to each of addrs, all at once,
// from inside the node's network namespace (opened once), one raw socket
// for each address family, for the connectivity matrix.
func (p *NetProber) Ping(ctx context.Context, node string, addrs []netip.Addr, limit time.Duration) ([]matrix.Echo, error) {
	if r, ok := p.Nodes.(RemoteNodes); ok && len(addrs) > 0 {
		if out, remote := pingRemote(ctx, r, node, addrs, limit); remote {
			return out, nil
		}
	}
	ns, err := p.Nodes.NetNS(ctx, node)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	out := make([]matrix.Echo, len(addrs))
	var wg sync.WaitGroup
	for _, v6 := range []bool{false, true} {
		var idx []int
		var fam []netip.Addr
		for i, a := range addrs {
			if a.Is6() == v6 {
				idx, fam = append(idx, i), append(fam, a)
			}
		}
		if len(fam) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, o := range pingAll(ns, fam, limit) {
				out[idx[k]] = matrix.Echo{OK: o.OK, Detail: o.Detail}
				if o.Err != nil {
					out[idx[k]].Detail = o.Err.Error()
				}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// pingRemote pings each of addrs from a node on another host of a
// cluster, all at once, each a ping probe its host's agent makes in the
// node's namespace; remote is false for a node of this host.
func pingRemote(ctx context.Context, r RemoteNodes, node string, addrs []netip.Addr, limit time.Duration) (out []matrix.Echo, remote bool) {
	out = make([]matrix.Echo, len(addrs))
	here := make([]bool, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, remote := r.ProbeRemote(ctx, &spec.Check{Probe: "ping", Node: node, Addr: a, Count: 1, Limit: limit})
			here[i] = !remote
			out[i] = matrix.Echo{OK: o.OK, Detail: o.Detail}
			if o.Err != nil {
				out[i].Detail = o.Err.Error()
			}
		}()
	}
	wg.Wait()
	for _, h := range here {
		if h {
			return nil, false
		}
	}
	return out, true
}

// Exec runs cmd in the node, for the connectivity matrix.
func (p *NetProber) Exec(ctx context.Context, node, cmd string) ([]byte, int, error) {
	return p.Nodes.Exec(ctx, node, cmd)
}

// matrix runs the lab's connectivity matrix: it passes when every pair of
// ASes is reachable and (unless the check says policy: false) on a path
// that keeps to the relations.
func (p *NetProber) matrix(ctx context.Context, c *spec.Check) Outcome {
	if p.Lab == nil {
		return Outcome{Err: fmt.Errorf("a matrix check needs the lab file's groups and relations")}
	}
	plan, err := matrix.NewPlan(p.Lab)
	if err != nil {
		return Outcome{Err: err}
	}
	pairs := matrix.Run(ctx, plan, p, matrix.Options{Limit: c.Limit})
	policy := c.Matrix.Policy == nil || *c.Matrix.Policy
	var bad []string
	for _, pr := range pairs {
		if !pr.Reachable || policy && pr.Verdict != matrix.Valid {
			bad = append(bad, fmt.Sprintf("%s %s->%s", pr.Symbol(), pr.From, pr.To))
		}
	}
	detail := matrix.Summary(pairs)
	if len(bad) > 0 {
		const shown = 6
		detail += ": " + strings.Join(bad[:min(shown, len(bad))], ", ")
		if len(bad) > shown {
			detail += fmt.Sprintf(" and %d more (netlab matrix shows them)", len(bad)-shown)
		}
	}
	return Outcome{OK: len(bad) == 0, Detail: detail}
}
