package serve

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/store"
)

// The hub reads a lab's state only while someone watches it, pushes it
// when it changed (and to those who come later), and keeps topics apart.
func TestHubPollsOnlyWhileWatched(t *testing.T) {
	var polls, state atomic.Int64
	h := newHub(func(ctx context.Context, id string) (any, error) {
		polls.Add(1)
		return map[string]int64{"v": state.Load()}, nil
	}, 10*time.Millisecond)
	defer h.close()
	time.Sleep(30 * time.Millisecond)
	if polls.Load() != 0 {
		t.Fatalf("%d polls with nobody watching", polls.Load())
	}
	ch, cancel := h.subscribe("lab:x")
	first := next(t, ch)
	if first.Type != "state" || string(first.Data.([]byte)) != `{"v":0}` {
		t.Errorf("first event %+v", first)
	}
	state.Store(1)
	if e := next(t, ch); string(e.Data.([]byte)) != `{"v":1}` {
		t.Errorf("after the change: %+v", e)
	}
	select {
	case e := <-ch:
		t.Errorf("an event without a change: %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
	late, cancelLate := h.subscribe("lab:x")
	if e := next(t, late); string(e.Data.([]byte)) != `{"v":1}` {
		t.Errorf("a later watcher's first event: %+v", e)
	}
	other, cancelOther := h.subscribe("class:1")
	h.publish("class:1", event{Type: "check", Data: "r"})
	if e := next(t, other); e.Type != "check" {
		t.Errorf("class event %+v", e)
	}
	select {
	case e := <-ch:
		t.Errorf("a class's event reached a lab's watcher: %+v", e)
	default:
	}
	cancel()
	cancelLate()
	cancelOther()
	time.Sleep(30 * time.Millisecond)
	n := polls.Load()
	time.Sleep(50 * time.Millisecond)
	if polls.Load() != n {
		t.Errorf("polled %d more times after the last watcher left", polls.Load()-n)
	}
}

func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case e := <-ch:
		if raw, ok := e.Data.(interface{ MarshalJSON() ([]byte, error) }); ok {
			b, _ := raw.MarshalJSON()
			e.Data = b
		}
		return e
	case <-time.After(2 * time.Second):
		t.Fatal("no event in 2s")
		return event{}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// liveNames records the labs whose state was read.
type liveNames struct {
	*recorder
	mu    sync.Mutex
	names []string
}

func (l *liveNames) Live(ctx context.Context, name string) (*lab.Status, error) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
	return l.recorder.Live(ctx, name)
}

// A page's state read looks its lab's name up in the store once.
func TestPollLooksTheLabUpOnce(t *testing.T) {
	ctx := context.Background()
	dir, st := openTestStore(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net1", Lab: "p2p", Roster: roster}); err != nil {
		t.Fatal(err)
	}
	labs, err := st.Labs(ctx)
	if err != nil || len(labs) != 1 {
		t.Fatalf("labs %v, %v", labs, err)
	}
	live := &liveNames{recorder: &recorder{}}
	s := New(Options{Store: st, Labs: live, DataDir: dir})
	t.Cleanup(s.Close)
	if _, err := s.poll(ctx, "nosuchlab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a lab not in the store: %v", err)
	}
	if _, err := s.poll(ctx, labs[0].ID); err != nil {
		t.Fatal(err)
	}
	st.Close() // the name is kept: no lookup fails now
	if _, err := s.poll(ctx, labs[0].ID); err != nil {
		t.Fatalf("second read: %v", err)
	}
	if !slices.Equal(live.names, []string{labs[0].Name, labs[0].Name}) {
		t.Errorf("read %v, want lab %s twice", live.names, labs[0].Name)
	}
}
