package serve

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

func timeIn(d time.Duration) time.Time { return time.Now().Add(d) }

func TestParseRoster(t *testing.T) {
	m, err := ParseRoster(strings.NewReader("email,Name,group\na@x.org,alice,red\n,bob,blue\n\n"))
	if err != nil || len(m) != 2 || m[0] != (Member{Name: "alice", Group: "red", Email: "a@x.org"}) || m[1].Name != "bob" {
		t.Errorf("roster: %+v %v", m, err)
	}
	for _, tc := range []struct{ csv, want string }{
		{"", "empty"},
		{"student\nalice\n", "no name column"},
		{"name\n", "no students"},
		{"name\nalice\nalice\n", "line 3: alice is on line 2 already"},
		{"name\n-x\n", `line 2: "-x" is not a user name`},
	} {
		_, err := ParseRoster(strings.NewReader(tc.csv))
		if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("roster %q: %v, want %q", tc.csv, err, tc.want)
		}
	}
}

func TestLabNameInGrammar(t *testing.T) {
	for _, tc := range []struct{ class, owner string }{
		{"net101", "alice"}, {"a", "Ümit.Öz_2"}, {strings.Repeat("c", 24), strings.Repeat("o", 63)}, {"x", "--"},
	} {
		name := LabName(tc.class, tc.owner, "a1b2c3")
		if err := naming.CheckName("lab", name); err != nil {
			t.Errorf("LabName(%q, %q) = %q: %v", tc.class, tc.owner, name, err)
		}
	}
}

func TestCreateClassRenamesAndRefusesHostAccess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	roster := []Member{{Name: "a", Group: "g1"}, {Name: "b", Group: "g1"}, {Name: "c", Group: "g2"}}
	c, logins, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net1", Lab: "p2p", Roster: roster, PerGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	labs, _ := st.ClassLabs(ctx, c.ID)
	if len(labs) != 2 || len(logins) != 3 || logins[0].Lab != logins[1].Lab || logins[0].Lab == logins[2].Lab {
		t.Fatalf("labs %+v, logins %+v: want a lab per group", labs, logins)
	}
	l, err := spec.Load(labs[0].File)
	if err != nil || l.Name != labs[0].Name || len(l.Nodes) != 2 {
		t.Errorf("lab file %s: %v, name %q want %q", labs[0].File, err, l.Name, labs[0].Name)
	}
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net1", Lab: "p2p", Roster: roster}); !errors.Is(err, ErrUsage) {
		t.Errorf("a second class net1: %v", err)
	}
	// host-link asks for a link to the host itself: refused unless allowed.
	_, _, err = CreateClass(ctx, st, dir, ClassRequest{Name: "net2", Lab: "host-link", Roster: roster})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--allow-host") {
		t.Errorf("host-link without --allow-host: %v", err)
	}
	if _, err := st.ClassByID(ctx, c.ID+1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused class was recorded: %v", err)
	}
	if _, _, err := CreateClass(ctx, st, dir, ClassRequest{Name: "net2", Lab: "host-link", Roster: roster, AllowHost: true}); err != nil {
		t.Errorf("host-link with --allow-host: %v", err)
	}
	entries, _ := os.ReadDir(dir + "/labs")
	if len(entries) != 5 {
		t.Errorf("%d lab files under the data directory, want 5 (net1's 2 groups, net2's 3 students)", len(entries))
	}
}
