package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/netlab/netlab/naming"
)

// The class of scripts/bench-serve.sh: STUDENTS students (30), each with
// a lab of eight nodes, all started within SPREAD (10 s) through the
// HTTP API while each student's page (an event stream) is open.
const loadLab = `# Eight nodes: two LANs joined by a router, and a link.
defaults: {image: netlab/tiny, command: exec sleep 86400}
networks:
  lan1: {subnet: 10.1.0.0/24}
  lan2: {subnet: 10.2.0.0/24}
nodes:
  r: {forward: true, interfaces: {eth0: {network: lan1}, eth1: {network: lan2}}}
  h1: {interfaces: {eth0: {network: lan1}}}
  h2: {interfaces: {eth0: {network: lan1}}}
  h3: {interfaces: {eth0: {network: lan1}}}
  h4: {interfaces: {eth0: {network: lan2}}}
  h5: {interfaces: {eth0: {network: lan2}}}
  h6: {interfaces: {eth0: {network: lan2}, eth1: {}}}
  h7: {interfaces: {eth0: {network: lan2}, eth1: {}}}
links:
  - [h6:eth1, h7:eth1]
`

// page is a student's open page: the lab's event stream, read into the
// latest state.
type page struct {
	mu      sync.Mutex
	running int       // nodes running in the latest state
	allAt   time.Time // when all eight were first seen running
	states  chan labStateEvent
}

type labStateEvent struct {
	at    time.Time
	state struct {
		Nodes []struct {
			Node, State string
			Ready       bool
		}
		Interfaces []struct {
			Node, Iface string
			Up, Carrier bool
		}
	}
}

// openPage opens the lab's event stream and reads it until ctx ends.
func openPage(ctx context.Context, t *testing.T, c *apiClient, labID string) *page {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/labs/"+labID+"/events", nil)
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events of lab %s: %v %v", labID, err, resp)
	}
	p := &page{states: make(chan labStateEvent, 256)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok || event != "state" {
				continue
			}
			e := labStateEvent{at: time.Now()}
			if json.Unmarshal([]byte(data), &e.state) != nil {
				continue
			}
			n := 0
			for _, node := range e.state.Nodes {
				if node.State == "running" && node.Ready {
					n++
				}
			}
			p.mu.Lock()
			p.running = n
			if n == 8 && p.allAt.IsZero() {
				p.allAt = e.at
			}
			p.mu.Unlock()
			select {
			case p.states <- e:
			default:
			}
		}
	}()
	return p
}

// terminalAnswers opens a terminal on a node, types a command and waits
// for its output; it returns how long that took.
func terminalAnswers(ctx context.Context, c *apiClient, labID, node string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/api/labs/" + labID + "/nodes/" + node + "/terminal"
	t0 := time.Now()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		return 0, err
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageBinary, []byte("echo te$((6*7))rm\r")); err != nil {
		return 0, err
	}
	var seen strings.Builder
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return 0, fmt.Errorf("terminal of %s: %w (read %q)", node, err, seen.String())
		}
		seen.Write(data)
		if strings.Contains(seen.String(), "te42rm") {
			return time.Since(t0), nil
		}
	}
}

// rss is a process's resident memory and its peak, from /proc.
func rss(pid int) (now, peak int) {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			now, _ = strconv.Atoi(f[1])
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			peak, _ = strconv.Atoi(f[1])
		}
	}
	return now / 1024, peak / 1024
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestServeLoad is scripts/bench-serve.sh's measurement (NETLAB_BENCH=1):
// a class of STUDENTS (30) starts the same 8-node lab within SPREAD
// seconds (10) through the HTTP API, each with their page open; then
// every lab must be up with all nodes running and a terminal answering,
// and 30 pages open on one lab must see a link state change. It prints
// one Markdown table row (prefixed "ROW ").
func TestServeLoad(t *testing.T) {
	serial(t)
	if os.Getenv("NETLAB_BENCH") == "" {
		t.Skip("a benchmark: NETLAB_BENCH=1 (scripts/bench-serve.sh runs it)")
	}
	students, spread := envInt("STUDENTS", 30), time.Duration(envInt("SPREAD", 10))*time.Second
	s := startServe(t)
	s.class = labPrefix + "load"
	labFile := filepath.Join(t.TempDir(), "eight.yaml")
	os.WriteFile(labFile, []byte("name: eight\n"+loadLab), 0o644)
	var names []string
	for i := 1; i <= students; i++ {
		names = append(names, fmt.Sprintf("s%02d", i))
	}
	links := makeClass(t, s, s.class, names, "--lab", labFile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clients := make([]*apiClient, students)
	labIDs := make([]string, students)
	pages := make([]*page, students)
	for i, n := range names {
		clients[i] = loginLink(t, s.url, links[n])
		l := clients[i].labs()
		if len(l) != 1 {
			t.Fatalf("%s has %d labs", n, len(l))
		}
		labIDs[i] = l[0].ID
		pages[i] = openPage(ctx, t, clients[i], labIDs[i])
	}
	_, idle := rss(s.cmd.Process.Pid)

	// Every student presses start, within the spread.
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make([]string, students)
	answered := make([]time.Duration, students)
	ended := make([]time.Time, students)
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * spread / time.Duration(students))
			start := time.Now()
			code, body := clients[i].do("POST", "/api/labs/"+labIDs[i]+"/up", "{}")
			answered[i] = time.Since(start)
			ended[i] = time.Now()
			if code != http.StatusOK {
				errs[i] = fmt.Sprintf("%s: up %d %s", names[i], code, body)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	// Every page shows its eight nodes running (as the server pushes it).
	deadline := time.Now().Add(2 * time.Minute)
	var lastUp time.Time
	for i, p := range pages {
		for {
			p.mu.Lock()
			at := p.allAt
			p.mu.Unlock()
			if !at.IsZero() {
				if at.After(lastUp) {
					lastUp = at
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's page never showed eight nodes running", names[i])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	upAll := lastUp.Sub(t0)
	slowestUp := slices.Max(answered)
	lastAnswer := slices.MaxFunc(ended, func(a, b time.Time) int { return a.Compare(b) }).Sub(t0)
	_, peakUp := rss(s.cmd.Process.Pid)

	// A terminal on a node of every lab answers, all opened at once.
	terms := make([]time.Duration, students)
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := terminalAnswers(ctx, clients[i], labIDs[i], "h1")
			if err != nil {
				errs[i] = fmt.Sprintf("%s: %v", names[i], err)
			}
			terms[i] = d
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	slices.Sort(terms)

	// 30 pages on the first lab; its node h1's link goes down on the host
	// side (the carrier of h1's eth0 drops): each page's time to see it.
	watchers := make([]*page, 30)
	for i := range watchers {
		watchers[i] = openPage(ctx, t, clients[0], labIDs[0])
	}
	time.Sleep(2 * time.Second) // every stream has its first state
	for _, w := range watchers {
		for len(w.states) > 0 {
			<-w.states
		}
	}
	labName := clients[0].labs()[0].Name
	port := naming.Port(labName, "h1", "eth0")
	change := time.Now()
	mustRun(t, "ip", "link", "set", port, "down")
	seen := make([]time.Duration, len(watchers))
	for i, w := range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timeout := time.After(30 * time.Second)
			for {
				select {
				case e := <-w.states:
					for _, f := range e.state.Interfaces {
						if f.Node == "h1" && f.Iface == "eth0" && !f.Carrier {
							seen[i] = e.at.Sub(change)
							return
						}
					}
				case <-timeout:
					seen[i] = -1
					return
				}
			}
		}()
	}
	wg.Wait()
	mustRun(t, "ip", "link", "set", port, "up")
	slices.Sort(seen)
	if seen[0] < 0 {
		t.Errorf("a page never saw h1's eth0 lose its carrier")
	}
	nowRSS, peak := rss(s.cmd.Process.Pid)
	load, _ := os.ReadFile("/proc/loadavg")
	rt := "docker"
	if onRunc() {
		rt = "runc"
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	fmt.Printf("ROW | %s | %d × 8 | %.1f s | %.1f s | %.1f s | %s / %s ms | %d / %d / %d MiB | %s / %s ms | %s |\n",
		rt, students, upAll.Seconds(), lastAnswer.Seconds(), slowestUp.Seconds(), ms(terms[len(terms)/2]), ms(terms[len(terms)-1]),
		idle, peakUp, max(peak, nowRSS), ms(seen[len(seen)/2]), ms(seen[len(seen)-1]), strings.Join(strings.Fields(string(load))[:3], " "))
	// Down, all at once, as a class leaving.
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[i].do("POST", "/api/labs/"+labIDs[i]+"/down", "{}")
		}()
	}
	wg.Wait()
}
