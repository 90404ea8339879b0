package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/serve/store"
)

func TestAddUserIn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	u, err := AddUserIn(ctx, dir, "ada", store.Teacher, "", false, "")
	if err != nil || u.Name != "ada" || u.Role != store.Teacher || u.Password == "" || u.Link != "" {
		t.Fatalf("with a password: %+v, %v", u, err)
	}
	u, err = AddUserIn(ctx, dir, "bob", store.Student, "b@example.org", true, "https://lab.example.org/")
	if err != nil || u.Password != "" || !strings.HasPrefix(u.Link, "https://lab.example.org/#login=") {
		t.Fatalf("with a link: %+v, %v", u, err)
	}
	if _, err := AddUserIn(ctx, dir, "ada", store.Student, "", false, ""); err == nil {
		t.Error("a second ada was added")
	}
	if _, err := AddUserIn(ctx, dir, "eve", "admin", "", false, ""); !IsUsage(err) {
		t.Errorf("role admin: %v, want a usage error", err)
	}
}

func TestCreateClassIn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(roster, []byte("name,group\na,g1\nb,g2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, logins, err := CreateClassIn(ctx, dir, roster, ClassRequest{Name: "net1", Lab: "p2p"})
	if err != nil || c.Name != "net1" || len(logins) != 2 {
		t.Fatalf("class %+v, logins %+v, %v", c, logins, err)
	}
	if _, _, err := CreateClassIn(ctx, dir, filepath.Join(dir, "none.csv"), ClassRequest{Name: "net2", Lab: "p2p"}); !IsUsage(err) {
		t.Errorf("no roster: %v, want a usage error", err)
	}
}
