package matrix

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/spec"
)

// internet4 is the generated Internet of 4 ASes: 1 and 2 tier-1 peers, 3
// their customer, 4 the customer of 3; 1, 3 and 4 at IXP 80.
func internet4(t *testing.T) *Plan {
	t.Helper()
	l, err := spec.Load("../internet/testdata/internet-4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPlan(t *testing.T) {
	p := internet4(t)
	var got []string
	for _, as := range p.ASes {
		got = append(got, fmt.Sprintf("%s/%d %s %s via %s", as.Group, as.Number, as.Host, as.Addr, as.Router))
	}
	want := []string{ // the route server's group has no host: not in the matrix
		"1/1 as1-base-host 1.102.0.1 via as1-base",
		"2/2 as2-base-host 2.102.0.1 via as2-base",
		"3/3 as3-base-host 3.102.0.1 via as3-base",
		"4/4 as4-base-host 4.102.0.1 via as4-base",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	rels := map[[2]int]string{
		{1, 2}: "peer", {1, 3}: "customer", {3, 1}: "provider", {3, 4}: "customer", {4, 3}: "provider",
		{1, 4}: "peer", {4, 1}: "peer", // 1 and 4 meet at the route server
		{2, 4}: "",
	}
	for ab, want := range rels {
		if got := p.Relation(ab[0], ab[1]); got != want {
			t.Errorf("relation of %d to %d: %q, want %q", ab[1], ab[0], got, want)
		}
	}
}

func TestJudge(t *testing.T) {
	p := internet4(t)
	cases := []struct {
		src  int
		path []int
		want string
	}{
		{4, []int{3, 2}, Valid},       // up, up
		{4, []int{1}, Valid},          // across the IXP
		{4, []int{80, 1}, Valid},      // a route server that adds its AS is skipped
		{2, []int{3, 3, 3, 4}, Valid}, // down, prepended, down
		{1, []int{2, 3}, Valid},       // across to the peer, then down to its customer
		{3, []int{1, 2}, Valid},       // up to the provider, across to its peer
		{2, []int{3, 1}, Invalid},     // down to the customer, then up: a valley
		{4, []int{1, 2}, Invalid},     // across, across
		{2, []int{4}, Unknown},        // no relation between 2 and 4
	}
	for _, c := range cases {
		got, why := p.Judge(c.src, c.path)
		if got != c.want {
			t.Errorf("Judge(%d, %v) = %s (%s), want %s", c.src, c.path, got, why, c.want)
		}
		if got != Valid && why == "" {
			t.Errorf("Judge(%d, %v) = %s says not why", c.src, c.path, got)
		}
	}
}

// net answers pings and BGP tables from maps, for Run's logic; the
// end-to-end test runs it against real routers.
type net struct {
	down  map[string]int    // "from to-address" -> rounds that get no reply (-1: all)
	paths map[string]string // "router to-address" -> AS path it holds to the address's /24
	mu    *sync.Mutex
	calls map[string]int // "ping from", "exec on" -> how often
}

func (n net) Ping(_ context.Context, node string, addrs []netip.Addr, _ time.Duration) ([]Echo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls["ping "+node]++
	out := make([]Echo, len(addrs))
	for i, a := range addrs {
		key := node + " " + a.String()
		if left := n.down[key]; left != 0 {
			n.down[key] = left - 1
			out[i] = Echo{Detail: "no reply"}
			continue
		}
		out[i] = Echo{OK: true, Detail: "reply"}
	}
	return out, nil
}

func (n net) Exec(_ context.Context, node, cmd string) ([]byte, int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls["exec "+node]++
	if cmd != lookingglass.TableCommand {
		return nil, 1, fmt.Errorf("unexpected command %q", cmd)
	}
	var routes []string
	for key, path := range n.paths {
		router, addr, _ := strings.Cut(key, " ")
		if router != node {
			continue
		}
		pfx := netip.PrefixFrom(netip.MustParseAddr(addr), 24).Masked()
		routes = append(routes, fmt.Sprintf(`%q:[{"valid":true,"bestpath":true,"pathFrom":"external","peerId":"9.9.9.9","path":%q}]`, pfx, path))
	}
	return []byte(`{"routes":{` + strings.Join(routes, ",") + `}}`), 0, nil
}

func TestRun(t *testing.T) {
	p := internet4(t)
	n := net{
		down: map[string]int{
			"as4-base-host 2.102.0.1": -1, // never answers
			"as1-base-host 3.102.0.1": 2,  // answers the third round
		},
		mu:    &sync.Mutex{},
		calls: map[string]int{},
		paths: map[string]string{
			"as2-base 1.102.0.1": "3 1", // leaked by 3: a valley
			"as2-base 3.102.0.1": "3",
			"as4-base 2.102.0.1": "3 2",
		},
	}
	pairs := Run(context.Background(), p, n, Options{Workers: 3})
	if len(pairs) != 12 {
		t.Fatalf("%d pairs, want 12", len(pairs))
	}
	// one ping call per source and round, one table read per router: AS 4
	// tries three rounds (one destination never answers), AS 1 three
	// (one answers the third), the others one
	wantCalls := map[string]int{"ping as1-base-host": 3, "ping as2-base-host": 1, "ping as3-base-host": 1, "ping as4-base-host": 3,
		"exec as1-base": 1, "exec as2-base": 1, "exec as3-base": 1, "exec as4-base": 1}
	if !maps.Equal(n.calls, wantCalls) {
		t.Errorf("calls %v, want %v", n.calls, wantCalls)
	}
	got := map[string]string{}
	for _, pr := range pairs {
		got[pr.From+">"+pr.To] = pr.Symbol() + " " + pr.Verdict
	}
	for pair, want := range map[string]string{"2>1": "! invalid", "2>3": "✓ valid", "4>2": "✗ valid", "1>2": "? no-route", "1>3": "? no-route"} {
		if got[pair] != want {
			t.Errorf("pair %s: %q, want %q", pair, got[pair], want)
		}
	}
	for _, pr := range pairs {
		if pr.From == "4" && pr.To == "2" && !strings.Contains(pr.Detail, "no reply") {
			t.Errorf("pair 4>2 says %q, not what its echo saw (no reply)", pr.Detail)
		}
	}
	var b bytes.Buffer
	if err := WriteTable(&b, pairs); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(b.String(), "\n")
	if got := strings.Join(strings.Fields(rows[2]), " "); got != "2 ! · ✓ ?" {
		t.Errorf("row of AS 2: %q, want \"2 ! · ✓ ?\"; table:\n%s", got, b.String())
	}
	if !strings.Contains(b.String(), "12 pairs: 1 ✓ reachable and valid, 1 ! against policy, 1 ✗ unreachable, 9 ? not judged") {
		t.Errorf("table's summary:\n%s", b.String())
	}
	b.Reset()
	if err := WriteJSON(&b, "internet", pairs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"as_path": [`) || !strings.Contains(b.String(), `"good": false`) {
		t.Errorf("JSON:\n%s", b.String())
	}
	if os.Getenv("MATRIX_SHOW") != "" {
		t.Log(b.String())
	}
}

// TestRunWaits: with Wait, Run pings in rounds, reading no router, those
// that have not answered until each has, then every pair, until every pair
// answers in one round; it says how many have after each round, then runs
// once as without it; a pair that never answers ends the wait when it
// passes.
func TestRunWaits(t *testing.T) {
	p := internet4(t)
	// as1's echo to AS 3 goes unanswered in its first 4 echo rounds: the
	// first waiting round (3 tries) and the first try of the second.
	n := net{down: map[string]int{"as1-base-host 3.102.0.1": 4}, mu: &sync.Mutex{}, calls: map[string]int{}, paths: map[string]string{}}
	var rounds [][2]int
	pairs := Run(context.Background(), p, n, Options{Workers: 2, Wait: time.Minute, Progress: func(ok, all int) { rounds = append(rounds, [2]int{ok, all}) }})
	if fmt.Sprint(rounds) != "[[11 12] [12 12] [12 12]]" {
		t.Errorf("waiting rounds answered %v, want [[11 12] [12 12] [12 12]]", rounds)
	}
	if c := n.calls["ping as2-base-host"]; c != 3 {
		t.Errorf("as2's host pinged %d times, want 3: a round of all, none while only as1's pair waits, a round of all, the run", c)
	}
	for _, pr := range pairs {
		if !pr.Reachable {
			t.Errorf("pair %s>%s unreachable after the wait", pr.From, pr.To)
		}
	}
	for node, calls := range n.calls {
		if strings.HasPrefix(node, "exec ") && calls != 1 {
			t.Errorf("%s: %d table reads, want 1 (none while waiting)", node, calls)
		}
	}
	// A pair that never answers: the wait ends when it has passed.
	n = net{down: map[string]int{"as4-base-host 2.102.0.1": -1}, mu: &sync.Mutex{}, calls: map[string]int{}, paths: map[string]string{}}
	start := time.Now()
	Run(context.Background(), p, n, Options{Workers: 2, Wait: 1500 * time.Millisecond})
	if d := time.Since(start); d < 1500*time.Millisecond || d > 10*time.Second {
		t.Errorf("a pair that never answers: Run took %s, want the wait (1.5 s) and a little", d)
	}
}
