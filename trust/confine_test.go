package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfine: a volume beneath the lab's folder as written is mounted as
// its links resolve, and refused when a link leads out, also to a path
// that does not exist yet; a path outside as written (allowed by a
// person, or up refused the lab) is left as written.
func TestConfine(t *testing.T) {
	root := t.TempDir()
	lab := filepath.Join(root, "lab")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(lab, "data", "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("data/sub", filepath.Join(lab, "inner"))
	os.Symlink(outside, filepath.Join(lab, "out"))
	os.Symlink("../../outside", filepath.Join(lab, "data", "up"))
	realLab, _ := filepath.EvalSymlinks(lab)
	realOut, _ := filepath.EvalSymlinks(outside)
	for _, tt := range []struct {
		src, want, err string
	}{
		{src: filepath.Join(lab, "data"), want: filepath.Join(realLab, "data")},
		{src: filepath.Join(lab, "inner"), want: filepath.Join(realLab, "data", "sub")},
		{src: filepath.Join(lab, "new", "dir"), want: filepath.Join(realLab, "new", "dir")},
		{src: filepath.Join(lab, "out"), err: "leads out of the lab's directory"},
		{src: filepath.Join(lab, "out", "not", "yet"), err: "to " + filepath.Join(realOut, "not", "yet")},
		{src: filepath.Join(lab, "data", "up"), err: "leads out"},
		{src: outside, want: outside},
		{src: "/etc", want: "/etc"},
	} {
		got, err := Confine(lab, tt.src)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Confine(%s) = %q, %v; want an error with %q", tt.src, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Confine(%s) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
	vols, err := ConfineVolumes(filepath.Join(lab, "lab.yaml"), []string{filepath.Join(lab, "inner") + ":/x:ro", "named:/y"}, false)
	if err != nil || vols[0] != filepath.Join(realLab, "data", "sub")+":/x:ro" || vols[1] != "named:/y" {
		t.Errorf("ConfineVolumes: %q, %v", vols, err)
	}
}

// TestConfineAllowed: a lab whose requests a person allowed mounts its
// volumes as written, links out of its folder included.
func TestConfineAllowed(t *testing.T) {
	lab := t.TempDir()
	os.Symlink("/etc", filepath.Join(lab, "out"))
	vol := filepath.Join(lab, "out") + ":/x"
	if _, err := ConfineVolumes(filepath.Join(lab, "lab.yaml"), []string{vol}, false); err == nil {
		t.Error("a link out of the folder, not allowed: mounted")
	}
	if got, err := ConfineVolumes(filepath.Join(lab, "lab.yaml"), []string{vol}, true); err != nil || got[0] != vol {
		t.Errorf("allowed: %q, %v", got, err)
	}
}
