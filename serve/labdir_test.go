package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// sideLab writes a lab file that uses what is beside it: an FRR
// configuration (read at load), a volume, a script in a folder; and a
// .git folder a class has no use for.
func sideLab(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("routed.yaml", `name: routed
nodes:
  r1:
    image: netlab/router
    forward: true
    config: {frr: r1.conf}
    volumes: ["./shared:/srv/shared"]
    interfaces:
      eth0: {address: 10.0.0.1/24}
  h1:
    image: netlab/tiny
    volumes: ["./scripts:/scripts:ro"]
    interfaces:
      eth0: {address: 10.0.0.2/24}
links:
  - [r1:eth0, h1:eth0]
`)
	write("r1.conf", "hostname r1\n")
	write("shared/notes.txt", "the lab's own\n")
	write("scripts/setup.sh", "#!/bin/sh\necho set up\n")
	write(".git/HEAD", "ref: refs/heads/main\n")
	if err := os.Symlink("scripts/setup.sh", filepath.Join(dir, "setup")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "routed.yaml")
}

func TestClassCopiesWhatIsBesideTheLabFile(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	file := sideLab(t)
	roster, _ := ParseRoster(strings.NewReader("name\na\nb\n"))
	if _, _, err := CreateClass(ctx, st, data, ClassRequest{Name: "side", Lab: file, Roster: roster}); err != nil {
		t.Fatalf("a class of a lab with files beside it: %v", err)
	}
	labs, _ := st.Labs(ctx)
	if len(labs) != 2 {
		t.Fatalf("%d labs, want 2", len(labs))
	}
	for _, l := range labs {
		if !strings.HasPrefix(l.File, filepath.Join(data, "labs", l.Name)+"/") {
			t.Errorf("lab %s's file %s is not under its own folder of the data directory", l.Name, l.File)
		}
		parsed, err := spec.Load(l.File)
		if err != nil {
			t.Fatalf("the class's copy of the lab does not load: %v", err)
		}
		if parsed.Name != l.Name || parsed.Nodes["r1"].Config.FRRText != "hostname r1\n" {
			t.Errorf("the copy %s: name %q, r1's FRR configuration %q", l.File, parsed.Name, parsed.Nodes["r1"].Config.FRRText)
		}
		dir := filepath.Dir(l.File)
		for rel, want := range map[string]string{"shared/notes.txt": "the lab's own\n", "scripts/setup.sh": "#!/bin/sh\necho set up\n", "setup": "#!/bin/sh\necho set up\n"} {
			if got, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || string(got) != want {
				t.Errorf("%s of lab %s: %q %v, want %q", rel, l.Name, got, err, want)
			}
		}
		if info, err := os.Stat(filepath.Join(dir, "scripts/setup.sh")); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("setup.sh's mode: %v %v", info, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			t.Errorf("lab %s got a copy of .git", l.Name)
		}
	}
	// Each lab's volume is its own.
	os.WriteFile(filepath.Join(filepath.Dir(labs[0].File), "shared/notes.txt"), []byte("changed by a\n"), 0o644)
	if got, _ := os.ReadFile(filepath.Join(filepath.Dir(labs[1].File), "shared/notes.txt")); string(got) != "the lab's own\n" {
		t.Errorf("a change to one lab's volume reached the other's: %q", got)
	}
	// The original is untouched.
	if got, _ := os.ReadFile(file); !strings.HasPrefix(string(got), "name: routed\n") {
		t.Errorf("the teacher's lab file changed: %q", got)
	}
}

func TestClassRefusesALabFolderBeyondItsLimits(t *testing.T) {
	ctx := context.Background()
	roster, _ := ParseRoster(strings.NewReader("name\na\n"))
	for _, c := range []struct {
		name string
		make func(dir string)
		want string
	}{
		{"a link out of the folder", func(dir string) { os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")) }, "outside the lab's folder"},
		{"a link up and out", func(dir string) { os.Symlink("../../x", filepath.Join(dir, "scripts", "x")) }, "outside the lab's folder"},
		{"too many bytes", func(dir string) { os.Truncate(filepath.Join(dir, "r1.conf"), MaxLabDirBytes+1) }, "put the lab and what it uses in a folder of their own"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			st, _ := store.Open(ctx, data)
			defer st.Close()
			file := sideLab(t)
			c.make(filepath.Dir(file))
			_, _, err := CreateClass(ctx, st, data, ClassRequest{Name: "side", Lab: file, Roster: roster})
			if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a usage error saying %q", err, c.want)
			}
			if classes, _ := st.Classes(ctx); len(classes) != 0 {
				t.Errorf("a class was made: %v", classes)
			}
			if entries, _ := os.ReadDir(filepath.Join(data, "labs")); len(entries) != 0 {
				t.Errorf("lab folders left: %v", entries)
			}
		})
	}
}
