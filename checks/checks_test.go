package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/spec"
)

// fakeProber answers from a script: per check name, the outcomes of its
// tries in order (the last one repeats).
type fakeProber struct {
	mu       sync.Mutex
	script   map[string][]Outcome
	tries    map[string]int
	running  atomic.Int32
	maxAtAll atomic.Int32
	hold     time.Duration
}

func (f *fakeProber) Probe(ctx context.Context, c *spec.Check) Outcome {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxAtAll.Load()
		if n <= m || f.maxAtAll.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.hold)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tries == nil {
		f.tries = map[string]int{}
	}
	s := f.script[c.Name]
	i := min(f.tries[c.Name], len(s)-1)
	f.tries[c.Name]++
	return s[i]
}

const labText = `name: t
defaults: {image: netlab/tiny}
networks:
  lan: {subnet: 10.0.0.0/24}
nodes:
  h1: {interfaces: {eth0: {network: lan}}}
  www: {hostname: www.lab, interfaces: {eth0: {network: lan, address: 10.0.0.5/24}}}
checks:
  - {from: h1, ping: www}
  - {from: h1, ping: 10.0.0.99, expect: fail, stage: 2}
  - {from: h1, tcp: "www:80", hint: "start the web server: httpd -p 80", stage: 2}
  - {from: h1, http: "http://www.lab/", within: 300ms}
  - {from: h1, tcp: "www:22", retry: 2}
  - {name: web page, from: h1, http: "http://www/", contains: hello}
`

func load(t *testing.T) *spec.Lab {
	t.Helper()
	lab, err := spec.Parse([]byte(labText), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return lab
}

func TestEvaluate(t *testing.T) {
	lab := load(t)
	ok := func(d string) Outcome { return Outcome{OK: true, Detail: d} }
	no := func(d string) Outcome { return Outcome{Detail: d} }
	p := &fakeProber{script: map[string][]Outcome{
		"h1 ping www":                   {ok("reply from 10.0.0.5 in 0.1ms")},
		"h1 ping 10.0.0.99 (must fail)": {ok("reply from 10.0.0.99 in 0.1ms")},
		"h1 tcp www:80":                 {no("refused")},
		"h1 http http://www.lab/":       {no("refused"), no("refused"), ok("200 OK, 6 bytes")},
		"h1 tcp www:22":                 {no("refused")},
		"web page":                      {{Err: errors.New("node h1 is not running")}},
	}}
	results := Run(context.Background(), lab.Checks, p, Options{Interval: 10 * time.Millisecond})
	type want struct {
		passed, isErr bool
		tries         int
		detail, hint  string
	}
	wants := []want{
		{true, false, 1, "reply from 10.0.0.5 in 0.1ms", ""},
		{false, false, 1, "must fail, but reply from 10.0.0.99 in 0.1ms", ""},
		{false, false, 1, "refused", "start the web server: httpd -p 80"},
		{true, false, 3, "200 OK, 6 bytes (3 tries in ", ""},
		{false, false, 3, "refused (3 tries in ", ""},
		{false, true, 1, "node h1 is not running", ""},
	}
	if len(results) != len(wants) {
		t.Fatalf("%d results, want %d", len(results), len(wants))
	}
	for i, w := range wants {
		r := results[i]
		if r.Passed != w.passed || r.Error != w.isErr || r.Tries != w.tries || !strings.HasPrefix(r.Detail, w.detail) || r.Hint != w.hint {
			t.Errorf("%s: got passed %v error %v tries %d detail %q hint %q, want %+v", r.Name, r.Passed, r.Error, r.Tries, r.Detail, r.Hint, w)
		}
	}
	if got := Summary(results); got != "2 passed, 4 failed" {
		t.Errorf("summary %q", got)
	}
}

// within stops trying when its time is up, and a check that passes at once
// is tried once.
func TestWithinEnds(t *testing.T) {
	lab := load(t)
	c := lab.Checks[3] // within: 300ms
	p := &fakeProber{script: map[string][]Outcome{c.Name: {{Detail: "refused"}}}}
	start := time.Now()
	r := Run(context.Background(), []*spec.Check{c}, p, Options{Interval: 50 * time.Millisecond})[0]
	took := time.Since(start)
	if r.Passed || r.Tries < 4 || r.Tries > 7 || took > 500*time.Millisecond {
		t.Errorf("%d tries in %s: %+v", r.Tries, took, r)
	}
}

func TestParallelIsBounded(t *testing.T) {
	var list []*spec.Check
	script := map[string][]Outcome{}
	for i := 0; i < 20; i++ {
		c := &spec.Check{Name: "c" + string(rune('a'+i)), Probe: "ping"}
		list = append(list, c)
		script[c.Name] = []Outcome{{OK: true}}
	}
	p := &fakeProber{script: script, hold: 20 * time.Millisecond}
	results := Run(context.Background(), list, p, Options{Workers: 3})
	if got := p.maxAtAll.Load(); got != 3 {
		t.Errorf("%d probes ran at once, want 3", got)
	}
	for i, r := range results {
		if r.Name != list[i].Name || !r.Passed {
			t.Errorf("result %d is %+v", i, r)
		}
	}
}

func TestSelectStage(t *testing.T) {
	lab := load(t)
	if got := Select(lab.Checks, ""); len(got) != 6 {
		t.Errorf("all: %d checks", len(got))
	}
	got := Select(lab.Checks, "2")
	if len(got) != 2 || got[0].Index != 1 || got[1].Index != 2 {
		t.Errorf("stage 2: %v", got)
	}
	if s := lab.StageNames(); len(s) != 1 || s[0] != "2" {
		t.Errorf("stages %v", s)
	}
}

// sample results for the renderers: fixed durations, so outputs are stable.
func sample() []Result {
	return []Result{
		{Name: "h1 ping www", Node: "h1", Probe: "ping", Target: "www", Expect: "pass", Passed: true, Detail: "reply from 10.0.0.5 in 0.12ms", Tries: 1, Seconds: 0.001},
		{Name: "h1 tcp www:80", Stage: "2", Node: "h1", Probe: "tcp", Target: "www:80", Expect: "pass", Detail: "refused: nothing listens there, or a firewall rejects", Hint: "start the web server: httpd -p 80", Tries: 1, Seconds: 0.002},
		{Name: "web page", Node: "h1", Probe: "http", Target: "http://www/", Expect: "pass", Error: true, Detail: "node h1 is not running", Tries: 1, Seconds: 0.01},
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/table.txt", b.String())
	if !strings.HasSuffix(b.String(), "\n1 passed, 2 failed\n") {
		t.Errorf("no summary line:\n%s", b.String())
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, "t", "", sample()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/report.json", b.String())
	var rep Report
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Lab != "t" || rep.Passed != 1 || rep.Failed != 2 || len(rep.Checks) != 3 || rep.Checks[1].Hint == "" {
		t.Errorf("read back %+v", rep)
	}
	b.Reset()
	WriteJSON(&b, "t", "9", nil)
	if !strings.Contains(b.String(), `"checks": []`) {
		t.Errorf("no checks is not an empty list: %s", b.String())
	}
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, "t", sample()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/junit.xml", b.String())
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 || s.Name != "t" || len(s.Cases) != 3 {
		t.Fatalf("read back %+v", doc)
	}
	if c := s.Cases[1]; c.Failure == nil || c.Classname != "t.stage-2" || !strings.Contains(c.Failure.Text, "hint: start the web server") {
		t.Errorf("failed case %+v", c)
	}
	if c := s.Cases[2]; c.Error == nil || c.Failure != nil {
		t.Errorf("error case %+v", c)
	}
	if c := s.Cases[0]; c.Error != nil || c.Failure != nil || c.Time != "0.001" {
		t.Errorf("passed case %+v", c)
	}
}

func TestJUnitFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.xml")
	if err := WriteJUnitFile(file, "t", sample()); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, "t", sample()); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != b.String() {
		t.Errorf("file holds %q (%v), want %q", got, err, b.String())
	}
	err := WriteJUnitFile(filepath.Join(t.TempDir(), "no", "such", "dir.xml"), "t", sample())
	if err == nil || !strings.Contains(err.Error(), "write JUnit XML") {
		t.Errorf("a file that cannot be made: %v", err)
	}
}

func TestNameserver(t *testing.T) {
	conf := "# generated\nsearch lab\nnameserver fe80::1%eth0\nnameserver 10.0.0.53\n"
	if got := nameserver([]byte(conf)); got.String() != "fe80::1" {
		t.Errorf("got %v", got)
	}
	if got := nameserver([]byte("search x\n")); got.IsValid() {
		t.Errorf("got %v from none", got)
	}
}

// TestDoneAsTheyComplete: Done sees every result once, as its check
// completes (a quick check before a slow one), never two at once.
func TestDoneAsTheyComplete(t *testing.T) {
	slow := &spec.Check{Name: "slow", Probe: "ping", Retry: 3}
	quick := &spec.Check{Name: "quick", Probe: "ping"}
	p := &fakeProber{script: map[string][]Outcome{
		"slow":  {{OK: false}, {OK: false}, {OK: true}},
		"quick": {{OK: true}},
	}}
	var order []string
	var inside atomic.Int32
	results := Run(context.Background(), []*spec.Check{slow, quick}, p, Options{Interval: 20 * time.Millisecond,
		Done: func(i int, r Result) {
			if inside.Add(1) != 1 {
				t.Error("Done called while another call runs")
			}
			defer inside.Add(-1)
			if want := []string{"slow", "quick"}[i]; r.Name != want {
				t.Errorf("Done(%d) got %s", i, r.Name)
			}
			order = append(order, r.Name)
		}})
	if strings.Join(order, ",") != "quick,slow" {
		t.Errorf("Done saw %v, want quick then slow", order)
	}
	if !results[0].Passed || results[0].Tries != 3 || !results[1].Passed {
		t.Errorf("results %+v", results)
	}
}

// A network probe sent to an agent comes back as the check it was: every
// field that the network probes read survives the trip through JSON.
func TestRemoteProbeRoundTrip(t *testing.T) {
	c := &spec.Check{Probe: "path", Node: "h1", Addr: netip.MustParseAddr("10.0.0.9"), Count: 3, Limit: 1500 * time.Millisecond,
		Hops: [][]netip.Addr{{netip.MustParseAddr("10.0.0.1")}, {netip.MustParseAddr("10.0.1.1"), netip.MustParseAddr("fd00::1")}},
		Port: 53, DNS: "www.example.com", Type: "AAAA", Answers: []string{"fd00::9"}, HTTP: "http://www/", Status: 200, Contains: "hello",
		Prefix: netip.MustParsePrefix("10.9.0.0/16"), Nexthop: netip.MustParseAddr("10.0.0.1"), Address: "eth0"}
	b, err := json.Marshal(RemoteProbeOf(c))
	if err != nil {
		t.Fatal(err)
	}
	var back RemoteProbe
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Check(); !reflect.DeepEqual(got, c) {
		t.Errorf("after the trip:\n%+v\nwant\n%+v", got, c)
	}
}
