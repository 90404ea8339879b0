package labs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/spec"
)

func TestEveryBundledLabLoadsAndSaysWhatItIs(t *testing.T) {
	list := List()
	if len(list) < 8 {
		t.Fatalf("only %d bundled labs", len(list))
	}
	for _, l := range list {
		if l.About == "" {
			t.Errorf("%s: no header comment to say what it teaches", l.Name)
		}
		data, _ := Content(l.Name)
		lab, err := spec.Parse(data, l.Name+".yaml")
		if err != nil {
			t.Errorf("%s: %v", l.Name, err)
			continue
		}
		if lab.Name != l.Name {
			t.Errorf("%s.yaml names its lab %q", l.Name, lab.Name)
		}
	}
}

func TestPathWritesTheLabOnce(t *testing.T) {
	Dir = t.TempDir()
	file, err := Path("p2p")
	if err != nil {
		t.Fatal(err)
	}
	if file != filepath.Join(Dir, "p2p.yaml") {
		t.Errorf("path %s", file)
	}
	want, _ := Content("p2p")
	if got, _ := os.ReadFile(file); string(got) != string(want) {
		t.Error("written lab differs from the bundled one")
	}
	if Has("../p2p") || Has("nosuchlab") {
		t.Error("Has accepts what is not a bundled lab")
	}
}
