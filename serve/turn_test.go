package serve

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/spec"
)

// ups is a Labs whose ups take a while, counting how many run at once.
type ups struct {
	recorder
	mu           sync.Mutex
	active, most int
}

func (f *ups) Up(ctx context.Context, l *spec.Lab, o lab.UpOptions) (*lab.UpResult, error) {
	f.mu.Lock()
	f.active++
	f.most = max(f.most, f.active)
	f.mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	f.mu.Lock()
	f.active--
	f.mu.Unlock()
	return f.recorder.Up(ctx, l, o)
}

// With --max-starts 2, six students starting at once all come up, never
// more than two at a time, and a waiting one's page is told it waits.
func TestMaxStartsTakeTurns(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	roster, _ := ParseRoster(strings.NewReader("name\n" + strings.Join(names, "\n") + "\n"))
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net", Lab: "p2p", Roster: roster}); err != nil {
		t.Fatal(err)
	}
	labs := &ups{}
	s := New(Options{Store: st, Labs: labs, DataDir: dir, MaxStarts: 2})
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, st: st}
	var waited []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	type student struct {
		c      *client
		lab    string
		events <-chan event
	}
	var students []student
	for _, n := range names {
		u, _ := st.UserByName(ctx, n)
		h, _ := auth.HashPassword("password-" + n)
		st.SetPassword(ctx, u.ID, h)
		mine, _ := st.LabsOf(ctx, u.ID)
		events, stop := s.hub.subscribe("lab:" + mine[0].ID)
		defer stop()
		students = append(students, student{f.login(t, n, "password-"+n), mine[0].ID, events})
	}
	for i, st := range students { // all at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := st.c.do("POST", "/api/labs/"+st.lab+"/up", "{}"); code != 200 {
				t.Errorf("%s's start: %d %s", names[i], code, body)
			}
			for {
				select {
				case e := <-st.events:
					if d, ok := e.Data.(map[string]any); ok && e.Type == "progress" && d["kind"] == lab.EventWaiting &&
						strings.Contains(d["message"].(string), "starts in turn") {
						mu.Lock()
						waited = append(waited, names[i])
						mu.Unlock()
					}
				default:
					return
				}
			}
		}()
	}
	wg.Wait()
	if labs.most != 2 || len(labs.calls) != len(names) {
		t.Errorf("%d ups at most at once, %d in all; want 2 and %d", labs.most, len(labs.calls), len(names))
	}
	if len(waited) < len(names)-2 {
		t.Errorf("pages told they wait: %v; want at least %d", waited, len(names)-2)
	}
}
