package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/spec"
)

func TestMoveClassToStage(t *testing.T) {
	f := newFixture(t)
	teach := f.teacher(t)
	a := f.login(t, "a", "password-a")
	f.labs.running = []string{f.labA.Name} // a's lab runs, b's does not

	if code, _ := a.do("POST", "/api/classes/1/stage", `{"stage":"2"}`); code != 404 {
		t.Errorf("a student moves the class: %d, want 404", code)
	}
	if len(f.labs.seen()) != 0 {
		t.Fatalf("a student's move reached the labs: %v", f.labs.seen())
	}
	code, body := teach.do("POST", "/api/classes/1/stage", `{"stage":"2"}`)
	var got struct {
		Stage   string
		Reset   []string
		Waiting []string `json:"at_next_start"`
	}
	json.Unmarshal([]byte(body), &got)
	if code != 202 || !slices.Equal(got.Reset, []string{f.labA.Name}) || !slices.Equal(got.Waiting, []string{f.labB.Name}) {
		t.Fatalf("the teacher moves the class to stage 2: %d %s", code, body)
	}
	want := "reset " + f.labA.File + " at stage 2"
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(f.labs.seen(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("a's running lab was not reset to stage 2: %v", f.labs.seen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range f.labs.seen() {
		if strings.Contains(c, f.labB.Name) {
			t.Errorf("b's lab, not running, was acted on: %v", f.labs.seen())
		}
	}
	// b's lab gets the stage when it starts.
	b := f.login(t, "b", "password-b")
	if code, body := b.do("POST", "/api/labs/"+f.labB.ID+"/up", `{}`); code != 200 || !slices.Contains(f.labs.seen(), "up "+f.labB.Name+" at stage 2") {
		t.Errorf("b starts her lab after the move: %d %s, labs asked %v", code, body, f.labs.seen())
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		log, _ := f.st.AuditLog(t.Context(), 50)
		found := false
		for _, e := range log {
			found = found || (e.User == "teach" && e.Action == "reset to class stage 2" && e.Object == f.labA.Name && e.Outcome == "ok")
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reset is not in the audit log: %+v", log)
		}
	}
}

// failing is a recorder whose resets fail.
type failing struct{ *recorder }

func (f failing) Reset(_ context.Context, target string, _ lab.ResetOptions) (*spec.Lab, error) {
	f.called("reset " + target)
	return nil, errors.New("node a: exec failed")
}

func TestMoveClassToStageTellsAFailedReset(t *testing.T) {
	f := newFixture(t)
	f.labs.running = []string{f.labA.Name, f.labB.Name}
	s := New(Options{Store: f.st, Labs: failing{f.labs}})
	defer s.Close()
	events, stop := s.hub.subscribe(classKey(1))
	defer stop()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	f.srv = srv
	teach := f.teacher(t)
	if code, body := teach.do("POST", "/api/classes/1/stage", `{"stage":"2"}`); code != 202 {
		t.Fatalf("move: %d %s", code, body)
	}
	failed := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for len(failed) < 2 {
		select {
		case e := <-events:
			if p, ok := e.Data.(stageProgress); ok && p.State == "failed" {
				if !strings.Contains(p.Error, "exec failed") || p.Total != 2 {
					t.Errorf("a failed reset's event: %+v", p)
				}
				failed[p.Lab] = true
			}
		case <-timeout:
			t.Fatalf("the failed resets were not told: %v", failed)
		}
	}
}
