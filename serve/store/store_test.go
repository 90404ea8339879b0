//go:build !noserve

package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateTwice(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		var v int
		s.db.QueryRow("PRAGMA user_version").Scan(&v)
		if v != len(migrations) {
			t.Errorf("schema version %d, want %d", v, len(migrations))
		}
		s.Close()
	}
}

func TestUsersTokensSessions(t *testing.T) {
	s, ctx := open(t), context.Background()
	u, err := s.AddUser(ctx, User{Name: "alice", Role: Student})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, User{Name: "alice", Role: Student}); !errors.Is(err, ErrExists) {
		t.Errorf("second alice: %v, want ErrExists", err)
	}
	if _, err := s.AddUser(ctx, User{Name: "eve", Role: "admin"}); err == nil {
		t.Error("role admin accepted")
	}
	s.SetLoginToken(ctx, u.ID, "h1", time.Now().Add(time.Hour))
	if got, err := s.UseLoginToken(ctx, "h1"); err != nil || got.Name != "alice" {
		t.Errorf("login token: %v %v", got, err)
	}
	if _, err := s.UseLoginToken(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("login token used twice: %v", err)
	}
	s.SetLoginToken(ctx, u.ID, "h2", time.Now().Add(-time.Second))
	if _, err := s.UseLoginToken(ctx, "h2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired login token: %v", err)
	}
	s.AddSession(ctx, "live", u.ID, "csrf1", time.Now().Add(time.Hour))
	s.AddSession(ctx, "old", u.ID, "csrf2", time.Now().Add(-time.Second))
	if ss, err := s.SessionOf(ctx, "live"); err != nil || ss.User.Name != "alice" || ss.CSRF != "csrf1" {
		t.Errorf("session: %+v %v", ss, err)
	}
	if _, err := s.SessionOf(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	s.DeleteSession(ctx, "live")
	if _, err := s.SessionOf(ctx, "live"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after logout: %v", err)
	}
}

func TestLabsOwnersResults(t *testing.T) {
	s, ctx := open(t), context.Background()
	a, _ := s.AddUser(ctx, User{Name: "a", Role: Student})
	b, _ := s.AddUser(ctx, User{Name: "b", Role: Student})
	c, err := s.AddClass(ctx, Class{Name: "net1", Source: "p2p", Per: "student"})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := s.AddClass(ctx, Class{Name: "net2", Source: "p2p", Per: "group"})
	s.AddMember(ctx, c.ID, a.ID, "")
	s.AddMember(ctx, g.ID, b.ID, "red")
	must(t, s.AddLab(ctx, Lab{ID: "aaa", Name: "net1-a-aaa", ClassID: c.ID, OwnerUser: a.ID, Source: "p2p", File: "/x"}))
	must(t, s.AddLab(ctx, Lab{ID: "bbb", Name: "net2-red-bbb", ClassID: g.ID, OwnerGroup: "red", Source: "p2p", File: "/y"}))
	if err := s.AddLab(ctx, Lab{ID: "ccc", Name: "net1-a-aaa", ClassID: c.ID, Source: "p2p", File: "/x"}); !errors.Is(err, ErrExists) {
		t.Errorf("a second lab of one name: %v", err)
	}
	la, _ := s.LabsOf(ctx, a.ID)
	lb, _ := s.LabsOf(ctx, b.ID)
	if len(la) != 1 || la[0].ID != "aaa" || la[0].Owner != "a" || len(lb) != 1 || lb[0].ID != "bbb" || lb[0].Owner != "red" {
		t.Errorf("labs of a %+v, of b %+v", la, lb)
	}
	for _, tc := range []struct {
		user int64
		lab  string
		want bool
	}{{a.ID, "aaa", true}, {b.ID, "aaa", false}, {b.ID, "bbb", true}, {a.ID, "bbb", false}} {
		l, _ := s.LabByID(ctx, tc.lab)
		if got, err := s.Owns(ctx, tc.user, l); got != tc.want || err != nil {
			t.Errorf("user %d owns %s: %v %v, want %v", tc.user, tc.lab, got, err, tc.want)
		}
	}
	t0 := time.Now()
	must(t, s.AddResult(ctx, Result{LabID: "aaa", Run: 1, Name: "ping", Passed: false, At: t0}))
	must(t, s.AddResult(ctx, Result{LabID: "aaa", Run: 2, Name: "ping", Passed: true, At: t0.Add(time.Second)}))
	latest, _ := s.ClassResults(ctx, c.ID)
	all, _ := s.Results(ctx, "aaa")
	if len(latest) != 1 || !latest[0].Passed || len(all) != 2 || all[0].Passed {
		t.Errorf("latest %+v, all %+v", latest, all)
	}
	must(t, s.Audit(ctx, AuditEntry{User: "b", Action: "GET", Object: "/api/labs/aaa", Outcome: "denied"}))
	log, _ := s.AuditLog(ctx, 10)
	if len(log) != 1 || log[0].Outcome != "denied" {
		t.Errorf("audit log %+v", log)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
