package serve

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

func TestApplyLimits(t *testing.T) {
	in := []byte(`# a lab
name: x
defaults:
  image: netlab/tiny
  resources: {cpus: 2, pids: 50}
nodes:
  a: {}   # takes the defaults
  b:
    resources: {memory: 1G, cpus: 0.25}
  c:
    image: netlab/tiny
`)
	out, err := ApplyLimits(in, store.Limits{Labs: 1, CPUs: 0.5, Memory: "128MiB", Pids: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# takes the defaults") {
		t.Errorf("the comments went:\n%s", out)
	}
	l, err := spec.Parse(out, "x.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]spec.Resources{
		"a": {CPUs: 0.5, Memory: "128MiB", MemoryBytes: 128 << 20, Pids: 50}, // the file's pids were lower
		"b": {CPUs: 0.25, Memory: "128MiB", MemoryBytes: 128 << 20, Pids: 50},
		"c": {CPUs: 0.5, Memory: "128MiB", MemoryBytes: 128 << 20, Pids: 50},
	}
	for name, w := range want {
		if got := l.Nodes[name].Resources; got == nil || *got != w {
			t.Errorf("node %s: %+v, want %+v", name, got, w)
		}
	}
	// No per-node limit: the file as it was.
	if same, _ := ApplyLimits(in, store.Limits{Labs: 2, Nodes: 10}); string(same) != string(in) {
		t.Errorf("limits per student changed the file:\n%s", same)
	}
}

func TestCheckLimits(t *testing.T) {
	if err := CheckLimits(store.Limits{Labs: 1, Nodes: 8, CPUs: 0.5, Memory: "256MiB", Pids: 64}); err != nil {
		t.Errorf("good limits: %v", err)
	}
	err := CheckLimits(store.Limits{Labs: -1, CPUs: 5000, Memory: "lots", Pids: 2})
	for _, want := range []string{"labs, nodes and lab_nodes are counts", "cpus 5000", "not an amount of memory", "pids 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad limits: %v; want it to say %q", err, want)
		}
	}
	if !IsUsage(err) {
		t.Errorf("bad limits are not a usage error: %v", err)
	}
}

// running is a Labs whose labs run once up (with their file's nodes)
// until down.
type running struct {
	recorder
	mu   sync.Mutex
	labs map[string]int
	// delay is how long an up takes before its lab shows in List (a
	// real one: its first node's create); most is the most labs that ran
	// at once.
	delay time.Duration
	most  int
}

func (f *running) Up(ctx context.Context, l *spec.Lab, o lab.UpOptions) (*lab.UpResult, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	f.labs[l.Name] = len(l.Nodes)
	f.most = max(f.most, len(f.labs))
	f.mu.Unlock()
	return f.recorder.Up(ctx, l, o)
}

// Reset brings every node of the lab's file back, and a lab that does
// not run up, as lab.Reset does.
func (f *running) Reset(ctx context.Context, target string, o lab.ResetOptions) (*spec.Lab, error) {
	l, err := spec.Load(target)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.labs[l.Name] = len(l.Nodes)
	f.mu.Unlock()
	return f.recorder.Reset(ctx, target, o)
}

// cutShort is a lab whose up was cut short (or a node of it removed by
// hand): one of its file's nodes fewer was made.
func (f *running) cutShort(name string) {
	f.mu.Lock()
	f.labs[name]--
	f.mu.Unlock()
}

func (f *running) Down(ctx context.Context, name string, o lab.DownOptions) (lab.DownResult, error) {
	f.mu.Lock()
	delete(f.labs, name)
	f.mu.Unlock()
	return f.recorder.Down(ctx, name, o)
}

func (f *running) List(context.Context) ([]lab.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []lab.Summary
	for name, n := range f.labs {
		out = append(out, lab.Summary{Lab: name, Nodes: n, Running: n})
	}
	return out, nil
}

// A student in three classes of the two-node p2p lab: net2 allows one lab
// at once, net3 four nodes; starts past them answer 409 saying why, and
// the teacher's limits reach the lab files.
func TestStartOverLimit(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	for name, lim := range map[string]store.Limits{"net1": {}, "net2": {Labs: 1}, "net3": {Nodes: 3}} {
		if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: name, Lab: "p2p", Roster: roster, Limits: lim}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net4", Lab: "p2p", Roster: roster, Limits: store.Limits{Nodes: 1}}); err == nil || !IsUsage(err) ||
		!strings.Contains(err.Error(), "the lab has 2 nodes, more than the 1") {
		t.Errorf("a class whose lab has more nodes than a student may run: %v", err)
	}
	_, f, a, teacherPassword, of := studentOfClasses(t, dir, st)

	if code, body := a.do("POST", "/api/labs/"+of["net1"].ID+"/up", "{}"); code != 200 {
		t.Fatalf("net1's lab: %d %s", code, body)
	}
	if code, body := a.do("POST", "/api/labs/"+of["net2"].ID+"/up", "{}"); code != 409 || !strings.Contains(body, "1 lab(s) already, net1 ("+of["net1"].Name+"); class net2 allows 1 at once: stop one first") {
		t.Errorf("a second lab where one is allowed: %d %s", code, body)
	}
	if code, body := a.do("POST", "/api/labs/"+of["net3"].ID+"/up", "{}"); code != 409 || !strings.Contains(body, "2 nodes already") || !strings.Contains(body, "class net3 allows 3 nodes") {
		t.Errorf("two labs of 2 nodes where 3 nodes are allowed: %d %s", code, body)
	}
	if code, body := a.do("POST", "/api/labs/"+of["net1"].ID+"/up", "{}"); code != 200 {
		t.Errorf("net1's lab again (a repair, under no limit): %d %s", code, body)
	}
	a.do("POST", "/api/labs/"+of["net1"].ID+"/down", "{}")
	if code, body := a.do("POST", "/api/labs/"+of["net2"].ID+"/up", "{}"); code != 200 {
		t.Errorf("net2's lab once net1's is down: %d %s", code, body)
	}
	if code, body := a.do("POST", "/api/labs/"+of["net2"].ID+"/up", "{}"); code != 200 {
		t.Errorf("net2's lab again while it runs: %d %s", code, body)
	}
	log, _ := st.AuditLog(ctx, 50)
	refused := 0
	for _, e := range log {
		if strings.HasPrefix(e.Outcome, "refused: over the class's limit") {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d refused starts audited, want 2", refused)
	}

	// The teacher sets per-node limits: they reach the lab files.
	teacher := f.login(t, "t", teacherPassword)
	net3 := of["net3"].ClassID
	path := "/api/classes/" + strconv.FormatInt(net3, 10) + "/limits"
	if code, body := teacher.do("POST", path, `{"nodes": 4, "cpus": 0.5, "memory": "3MiB"}`); code != 400 || !strings.Contains(body, "less than 6MiB") {
		t.Errorf("memory below 6MiB: %d %s", code, body)
	}
	if code, body := teacher.do("POST", path, `{"nodes": 4, "cpus": 0.5, "memory": "64MiB", "pids": 100}`); code != 200 {
		t.Fatalf("limits: %d %s", code, body)
	}
	if code, body := teacher.do("GET", path, ""); code != 200 || !strings.Contains(body, `"memory":"64MiB"`) {
		t.Errorf("limits read back: %d %s", code, body)
	}
	if code, body := a.do("POST", path, `{"nodes": 40}`); code != 404 {
		t.Errorf("a student setting limits: %d %s", code, body)
	}
	l, err := spec.Load(of["net3"].File)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if r := n.Resources; r == nil || r.CPUs != 0.5 || r.MemoryBytes != 64<<20 || r.Pids != 100 {
			t.Errorf("node %s of net3's lab: resources %+v", n.Name, r)
		}
	}
	if src, _ := os.ReadFile(filepath.Join(filepath.Dir(of["net3"].File), sourceFile)); strings.Contains(string(src), "resources") {
		t.Errorf("the class's source lab file took the limits:\n%s", src)
	}
	if code, body := a.do("POST", "/api/labs/"+of["net3"].ID+"/up", "{}"); code != 200 {
		t.Errorf("net3's lab under 4 nodes: %d %s", code, body)
	}
}

// A student in eight classes of the two-node p2p lab, each allowing two
// labs (or four nodes) at once, presses start on all eight at the same
// instant, twice: two labs come up, every other start answers 409, and
// never more than two labs run. Each up takes a while before its lab
// shows among those that run, as a real one does: starts checked only
// against what runs would all see room.
func TestStartsAtOnceHoldTheLimit(t *testing.T) {
	for _, lim := range []store.Limits{{Labs: 2}, {Nodes: 4}} {
		t.Run(fmt.Sprintf("%+v", lim), func(t *testing.T) {
			ctx := context.Background()
			dir, st := openTestStore(t)
			roster, _ := ParseRoster(strings.NewReader("name\na\n"))
			for i := range 8 {
				if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: fmt.Sprintf("net%d", i), Lab: "p2p", Roster: roster, Limits: lim}); err != nil {
					t.Fatal(err)
				}
			}
			u, _ := st.UserByName(ctx, "a")
			h, _ := auth.HashPassword("password-a")
			st.SetPassword(ctx, u.ID, h)
			labs := &running{labs: map[string]int{}, delay: 200 * time.Millisecond}
			s := New(Options{Store: st, Labs: labs, DataDir: dir})
			t.Cleanup(s.Close)
			srv := httptest.NewServer(s.Handler())
			t.Cleanup(srv.Close)
			a := (&fixture{srv: srv, st: st}).login(t, "a", "password-a")
			mine, _ := st.LabsOf(ctx, u.ID)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			up := map[string]bool{}
			for range 2 {
				for _, l := range mine {
					wg.Add(1)
					go func() {
						defer wg.Done()
						code, body := a.do("POST", "/api/labs/"+l.ID+"/up", "{}")
						mu.Lock()
						defer mu.Unlock()
						codes[code]++
						if code == 200 {
							up[l.Name] = true
						} else if code != 409 || !strings.Contains(body, "over the class's limit") {
							t.Errorf("start of %s: %d %s", l.Name, code, body)
						}
					}()
				}
			}
			wg.Wait()
			if len(up) != 2 || labs.most != 2 {
				t.Errorf("%d labs came up (%v), at most %d ran at once; want 2 (answers: %v)", len(up), up, labs.most, codes)
			}
			if codes[409] < 16-4 {
				t.Errorf("%d starts refused, want at least 12 (answers: %v)", codes[409], codes)
			}
			// Once one is down, another starts.
			for name := range up {
				for _, l := range mine {
					if l.Name == name {
						a.do("POST", "/api/labs/"+l.ID+"/down", "{}")
					}
				}
				break
			}
			for _, l := range mine {
				if !up[l.Name] {
					if code, body := a.do("POST", "/api/labs/"+l.ID+"/up", "{}"); code != 200 {
						t.Errorf("a start after a down: %d %s", code, body)
					}
					break
				}
			}
		})
	}
}

// A class's lab may not have more nodes than lab_nodes: the class is
// refused when made, and so are limits its lab is bigger than.
func TestLabNodesLimit(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	_, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "big", Lab: "p2p", Roster: roster, Limits: store.Limits{LabNodes: 1}})
	if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), "the lab has 2 nodes, more than the 1 a lab of the class may have") {
		t.Errorf("a lab bigger than lab_nodes: %v", err)
	}
	c, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "fits", Lab: "p2p", Roster: roster, Limits: store.Limits{LabNodes: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := st.ClassLimits(ctx, c.ID); err != nil || l.LabNodes != 2 {
		t.Errorf("lab_nodes read back: %+v %v", l, err)
	}
	if err := SetClassLimits(ctx, st, c.ID, store.Limits{LabNodes: 1}); err == nil || !IsUsage(err) {
		t.Errorf("lab_nodes set below the class's lab: %v", err)
	}
	if l, _ := st.ClassLimits(ctx, c.ID); l.LabNodes != 2 {
		t.Errorf("refused limits were kept: %+v", l)
	}
	if err := CheckLimits(store.Limits{LabNodes: -1}); err == nil {
		t.Errorf("lab_nodes -1 passed")
	}
}

// Reset and a class's move to a stage act on a running lab, and bring
// every node of its file back: they must fit the student's limits with
// all of them. A student of two classes of the two-node p2p lab, allowed
// three nodes at once, has one lab with one node made (an up cut short)
// and starts the other: the reset of the first (and its repair, and its
// class's move to a stage) is refused while the other runs, and the reset
// of the one that has all its nodes is not. A reset of a lab that does
// not run is a start.
func TestResetAndStageHoldTheLimits(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	for name, lim := range map[string]store.Limits{"net1": {Nodes: 3}, "net2": {Nodes: 3}, "net3": {Labs: 2}} {
		if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: name, Lab: "p2p", Roster: roster, Limits: lim}); err != nil {
			t.Fatal(err)
		}
	}
	labs, f, a, teacherPassword, of := studentOfClasses(t, dir, st)
	post := func(l store.Lab, op string) (int, string) { return a.do("POST", "/api/labs/"+l.ID+"/"+op, "{}") }

	if code, body := post(of["net1"], "up"); code != 200 {
		t.Fatalf("net1's lab: %d %s", code, body)
	}
	labs.cutShort(of["net1"].Name) // one of its two nodes was made
	if code, body := post(of["net2"], "up"); code != 200 {
		t.Fatalf("net2's lab with one node of net1's made (3 nodes in all): %d %s", code, body)
	}
	for _, op := range []string{"reset", "up"} {
		code, body := post(of["net1"], op)
		if code != 409 || !strings.Contains(body, "you run 2 nodes already (net2 ("+of["net2"].Name+")), and this lab runs again with all its 2") ||
			!strings.Contains(body, "class net1 allows 3 nodes at once: stop a lab first") {
			t.Errorf("%s of net1's lab, its two nodes and net2's two where 3 are allowed: %d %s", op, code, body)
		}
	}
	if slices.Contains(labs.seen(), "reset "+of["net1"].File+" at stage ") || labs.labs[of["net1"].Name] != 1 {
		t.Errorf("net1's lab was reset after all: %v, %d nodes run", labs.seen(), labs.labs[of["net1"].Name])
	}
	if code, body := post(of["net2"], "reset"); code != 200 {
		t.Errorf("reset of net2's lab, which has all its nodes (3 in all): %d %s", code, body)
	}

	// The teacher moves net1 to a stage: its lab is left as it is, refused.
	teacher := f.login(t, "t", teacherPassword)
	if code, body := teacher.do("POST", "/api/classes/"+strconv.FormatInt(of["net1"].ClassID, 10)+"/stage", `{"stage":"2"}`); code != 202 || !strings.Contains(body, of["net1"].Name) {
		t.Fatalf("net1 to stage 2: %d %s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, _ := st.AuditLog(ctx, 50)
		if slices.ContainsFunc(log, func(e store.AuditEntry) bool {
			return e.Action == "reset to class stage 2" && e.Object == of["net1"].Name &&
				strings.HasPrefix(e.Outcome, "refused: over the class's limit") && strings.Contains(e.Outcome, "runs again with all its 2 nodes")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refused reset of net1's lab in the audit log: %+v", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if slices.Contains(labs.seen(), "reset "+of["net1"].File+" at stage 2") {
		t.Errorf("net1's lab was reset to stage 2 over the limit: %v", labs.seen())
	}

	// A reset of a lab that does not run starts it: net3 allows 2 labs.
	if code, body := post(of["net3"], "reset"); code != 409 || !strings.Contains(body, "you run 2 lab(s) already") {
		t.Errorf("reset of net3's lab, not running, with 2 labs running where 2 are allowed: %d %s", code, body)
	}
	post(of["net2"], "down")
	if code, body := post(of["net3"], "reset"); code != 200 || labs.labs[of["net3"].Name] != 2 {
		t.Errorf("reset of net3's lab, not running, with 1 lab running: %d %s", code, body)
	}
}

// studentOfClasses serves dir and st with labs that run as they are told
// (running), and logs in student a (password-a) of the classes made: it
// returns the labs, the server, a's session, the teacher t's password and
// a's lab in each class, by class name.
func studentOfClasses(t *testing.T, dir string, st *store.Store) (*running, *fixture, *client, string, map[string]store.Lab) {
	t.Helper()
	ctx := context.Background()
	u, _ := st.UserByName(ctx, "a")
	h, _ := auth.HashPassword("password-a")
	st.SetPassword(ctx, u.ID, h)
	_, teacherPassword, err := AddUser(ctx, st, "t", store.Teacher, "")
	if err != nil {
		t.Fatal(err)
	}
	labs := &running{labs: map[string]int{}}
	s := New(Options{Store: st, Labs: labs, DataDir: dir})
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, st: st}
	a := f.login(t, "a", "password-a")
	mine, _ := st.LabsOf(ctx, u.ID)
	of := map[string]store.Lab{}
	for _, l := range mine {
		of[l.Class] = l
	}
	return labs, f, a, teacherPassword, of
}
