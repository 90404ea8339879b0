package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/lookingglass"
	"github.com/netlab/netlab/matrix"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// recorder is a Labs that records which labs were acted on; the
// authorization under test decides before any of it is reached.
type recorder struct {
	mu      sync.Mutex
	calls   []string
	resets  []lab.ResetOptions // as Reset was asked
	running []string           // labs List says run
	stuck   bool               // List answers only when its context ends, as a busy engine
}

func (f *recorder) called(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what)
}

func (f *recorder) Up(_ context.Context, l *spec.Lab, opts lab.UpOptions) (*lab.UpResult, error) {
	if opts.Stage != "" {
		f.called("up " + l.Name + " at stage " + opts.Stage)
		return &lab.UpResult{Lab: l.Name}, nil
	}
	f.called("up " + l.Name)
	return &lab.UpResult{Lab: l.Name}, nil
}
func (f *recorder) Down(_ context.Context, name string, _ lab.DownOptions) (lab.DownResult, error) {
	f.called("down " + name)
	return lab.DownResult{}, nil
}
func (f *recorder) Live(_ context.Context, name string) (*lab.Status, error) {
	return &lab.Status{Lab: name}, nil
}
func (f *recorder) Check(_ context.Context, target string, _ lab.CheckOptions) (*lab.CheckResult, error) {
	f.called("check " + target)
	return &lab.CheckResult{}, nil
}
func (f *recorder) Reset(_ context.Context, target string, opts lab.ResetOptions) (*spec.Lab, error) {
	f.called("reset " + target + " at stage " + opts.Stage)
	f.mu.Lock()
	f.resets = append(f.resets, opts)
	f.mu.Unlock()
	return nil, nil
}
func (f *recorder) Stop(_ context.Context, name, node string) error {
	f.called("stop " + name)
	return nil
}
func (f *recorder) Start(_ context.Context, name, node string, _ lab.Progress) error {
	f.called("start " + name)
	return nil
}
func (f *recorder) Restart(_ context.Context, name, node string, _ lab.Progress) error {
	f.called("restart " + name)
	return nil
}
func (f *recorder) Link(_ context.Context, name, node, iface string, up bool) (lab.LinkResult, error) {
	f.called("link " + name)
	return lab.LinkResult{}, nil
}
func (f *recorder) Impair(_ context.Context, name, node, iface string, _ lab.Impairment, _ lab.Progress) (*spec.Link, error) {
	f.called("impair " + name)
	return nil, nil
}

// Exec of a terminal (a TTY) is cat: what goes in comes out, until
// its input ends.
func (f *recorder) Exec(_ context.Context, name, node string, _ []string, stdio lab.Stdio) (int, error) {
	f.called("exec " + name)
	if stdio.TTY && stdio.In != nil {
		io.Copy(stdio.Out, stdio.In)
	}
	return 0, nil
}
func (f *recorder) Capture(_ context.Context, opts capture.Options, _, _ io.Writer) error {
	f.called("capture " + opts.Lab)
	return nil
}
func (f *recorder) List(ctx context.Context) ([]lab.Summary, error) {
	if f.stuck {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []lab.Summary
	for _, l := range f.running {
		out = append(out, lab.Summary{Lab: l, Nodes: 2, Running: 2})
	}
	return out, nil
}

// seen is what the labs were asked, so far.
func (f *recorder) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fixture is a server with a class of two students, a and b, each with a
// lab of the bundled p2p lab.
type fixture struct {
	srv  *httptest.Server
	st   *store.Store
	labs *recorder
	labA store.Lab
	labB store.Lab
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\nb\n"))
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net1", Lab: "p2p", Roster: roster}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		u, _ := st.UserByName(ctx, name)
		h, _ := auth.HashPassword("password-" + name)
		st.SetPassword(ctx, u.ID, h)
	}
	f := &fixture{st: st, labs: &recorder{}}
	s := New(Options{Store: st, Labs: f.labs, DataDir: dir})
	t.Cleanup(s.Close)
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	a, _ := st.UserByName(ctx, "a")
	b, _ := st.UserByName(ctx, "b")
	la, _ := st.LabsOf(ctx, a.ID)
	lb, _ := st.LabsOf(ctx, b.ID)
	f.labA, f.labB = la[0], lb[0]
	return f
}

// client is a logged-in browser: its cookies and CSRF token.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (f *fixture) login(t *testing.T, name, password string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: f.srv.URL, http: &http.Client{Jar: jar}}
	code, body := c.do("POST", "/api/login", `{"name":"`+name+`","password":"`+password+`"}`)
	if code != 200 {
		t.Fatalf("login %s: %d %s", name, code, body)
	}
	var m struct{ CSRF string }
	json.Unmarshal([]byte(body), &m)
	c.csrf = m.CSRF
	return c
}

func (c *client) do(method, path, body string) (int, string) {
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStudentGets404OnAnothersLab(t *testing.T) {
	f := newFixture(t)
	b := f.login(t, "b", "password-b")
	id := f.labA.ID
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/labs/" + id},
		{"GET", "/api/labs/" + id + "/topology.svg"},
		{"GET", "/api/labs/" + id + "/events"},
		{"GET", "/api/labs/" + id + "/results"},
		{"GET", "/api/labs/" + id + "/progress"},
		{"GET", "/api/labs/" + id + "/progress.svg"},
		{"GET", "/api/labs/" + id + "/terminals"},
		{"GET", "/api/classes/1/terminals"},
		{"GET", "/api/labs/" + id + "/terminals/x/watch"},
		{"GET", "/api/labs/" + id + "/matrix"},
		{"GET", "/api/labs/" + id + "/lg/a"},
		{"POST", "/api/classes/1/stage"},
		{"POST", "/api/labs/" + id + "/up"},
		{"POST", "/api/labs/" + id + "/down"},
		{"POST", "/api/labs/" + id + "/reset"},
		{"POST", "/api/labs/" + id + "/check"},
		{"POST", "/api/labs/" + id + "/nodes/a/stop"},
		{"POST", "/api/labs/" + id + "/nodes/a/interfaces/eth0/down"},
		{"GET", "/api/labs/" + id + "/nodes/a/terminal"},
		{"GET", "/api/labs/" + id + "/capture?target=a:eth0"},
		{"GET", "/api/labs/" + id + "/capture.pcap?target=a:eth0"},
		{"GET", "/api/classes"},
		{"GET", "/api/audit"},
	} {
		if code, body := b.do(r.method, r.path, ""); code != 404 {
			t.Errorf("b: %s %s = %d %s, want 404", r.method, r.path, code, body)
		}
	}
	// Nothing of a's lab was touched, and every attempt is in the audit log.
	if len(f.labs.calls) != 0 {
		t.Errorf("b's requests reached the labs: %v", f.labs.calls)
	}
	log, _ := f.st.AuditLog(context.Background(), 100)
	denied := 0
	for _, e := range log {
		if e.User == "b" && strings.HasPrefix(e.Outcome, "denied") {
			denied++
		}
	}
	if denied != 23 {
		t.Errorf("%d denials of b audited, want 23: %+v", denied, log)
	}
	// b's own lab answers, and a's node names are no way into it.
	if code, _ := b.do("GET", "/api/labs/"+f.labB.ID, ""); code != 200 {
		t.Errorf("b's own lab: %d", code)
	}
	if code, _ := b.do("POST", "/api/labs/"+f.labB.ID+"/nodes/zz/stop", ""); code != 404 {
		t.Errorf("b's lab, node zz: %d, want 404", code)
	}
	if code, body := b.do("POST", "/api/labs/"+f.labB.ID+"/nodes/a/stop", ""); code != 200 || f.labs.calls[0] != "stop "+f.labB.Name {
		t.Errorf("b stops its node a: %d %s, calls %v", code, body, f.labs.calls)
	}
}

func TestCSRFAndSession(t *testing.T) {
	f := newFixture(t)
	a := f.login(t, "a", "password-a")
	csrf := a.csrf
	a.csrf = ""
	if code, _ := a.do("POST", "/api/labs/"+f.labA.ID+"/up", ""); code != 403 {
		t.Errorf("up without the CSRF header: %d, want 403", code)
	}
	a.csrf = "wrong"
	if code, _ := a.do("POST", "/api/labs/"+f.labA.ID+"/up", ""); code != 403 {
		t.Errorf("up with a wrong CSRF token: %d, want 403", code)
	}
	a.csrf = csrf
	if code, body := a.do("POST", "/api/labs/"+f.labA.ID+"/up", "{}"); code != 200 {
		t.Errorf("up: %d %s", code, body)
	}
	// A cross-site request is refused whatever it carries.
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/labs/"+f.labA.ID+"/down", nil)
	req.Header.Set(CSRFHeader, csrf)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := a.http.Do(req)
	if err != nil || resp.StatusCode != 403 {
		t.Errorf("cross-site down: %v %v, want 403", resp.StatusCode, err)
	}
	if code, _ := a.do("POST", "/api/logout", ""); code != 204 {
		t.Errorf("logout: %d", code)
	}
	if code, _ := a.do("GET", "/api/me", ""); code != 401 {
		t.Errorf("after logout: %d, want 401", code)
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t)
	c := &client{t: t, base: f.srv.URL, http: http.DefaultClient}
	for i := 0; i < 5; i++ {
		if code, _ := c.do("POST", "/api/login", `{"name":"a","password":"guess"}`); code != 401 {
			t.Fatalf("wrong password %d: %d, want 401", i+1, code)
		}
	}
	if code, _ := c.do("POST", "/api/login", `{"name":"a","password":"password-a"}`); code != 429 {
		t.Errorf("the right password after 5 failures: %d, want 429", code)
	}
	if code, _ := c.do("POST", "/api/login", `{"name":"b","password":"password-b"}`); code != 200 {
		t.Errorf("another user from the same address: %d, want 200", code)
	}
}

func TestLoginLinkWorksOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, _ := f.st.UserByName(ctx, "a")
	token := auth.NewToken()
	f.st.SetLoginToken(ctx, u.ID, auth.HashToken(token), timeIn(LoginTokenLife))
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: f.srv.URL, http: &http.Client{Jar: jar}}
	if code, body := c.do("POST", "/api/login/token", `{"token":"`+token+`"}`); code != 200 || !strings.Contains(body, `"name":"a"`) {
		t.Errorf("login link: %d %s", code, body)
	}
	if code, _ := c.do("POST", "/api/login/token", `{"token":"`+token+`"}`); code != 401 {
		t.Errorf("login link used twice: %d, want 401", code)
	}
}

func (f *recorder) Matrix(_ context.Context, target string, _ matrix.Options) (*lab.MatrixResult, error) {
	f.called("matrix " + target)
	return &lab.MatrixResult{Lab: &spec.Lab{Name: target}, Pairs: []matrix.Pair{{From: "1", To: "2", Reachable: true, Verdict: matrix.Valid}}}, nil
}

func (f *recorder) LookingGlass(_ context.Context, target, router, prefix string) (*lookingglass.Glass, error) {
	f.called("lg " + target + " " + router)
	return &lookingglass.Glass{Router: router, Prefix: prefix, BGP: []lookingglass.Path{}, Routes: []lookingglass.Route{}}, nil
}

// A runtime that does not answer leaves the list of labs with unknown
// counts; it does not hold the page.
func TestListLabsRuntimeStuck(t *testing.T) {
	f := newFixture(t)
	f.labs.stuck = true
	defer func(d time.Duration) { listRuntimeLimit = d }(listRuntimeLimit)
	listRuntimeLimit = 100 * time.Millisecond
	c := f.login(t, "a", "password-a")
	code, body := c.do("GET", "/api/labs", "")
	var got []struct {
		Name    string
		Unknown bool
	}
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || len(got) != 1 || !got[0].Unknown {
		t.Fatalf("GET /api/labs with the runtime stuck: %d %s, want a's lab with unknown counts", code, body)
	}
}

// openTestStore opens a server's data in a folder of the test's own,
// closed when the test ends.
func openTestStore(t *testing.T) (string, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return dir, st
}

// A reset (which starts a lab that does not run) starts it as the
// server's up does: on the server's runtime, with the class's consent to
// what the lab asks of the host.
func TestResetUsesTheServersRuntimeAndTheClassHostAccess(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net2", Lab: "host-link", Roster: roster, AllowHost: true}); err != nil {
		t.Fatal(err)
	}
	u, _ := st.UserByName(ctx, "a")
	h, _ := auth.HashPassword("password-a")
	st.SetPassword(ctx, u.ID, h)
	f := &fixture{st: st, labs: &recorder{}}
	s := New(Options{Store: st, Labs: f.labs, DataDir: dir, Runtime: "runc"})
	t.Cleanup(s.Close)
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	labs, _ := st.LabsOf(ctx, u.ID)
	a := f.login(t, "a", "password-a")
	if code, body := a.do("POST", "/api/labs/"+labs[0].ID+"/reset", `{}`); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	f.labs.mu.Lock()
	defer f.labs.mu.Unlock()
	if len(f.labs.resets) != 1 || f.labs.resets[0].Runtime != "runc" || !f.labs.resets[0].AllowHost {
		t.Errorf("reset asked with %+v, want runtime runc and host access allowed", f.labs.resets)
	}
}
