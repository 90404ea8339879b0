package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any input either loads or fails with problems that wrap
// ErrInvalid; it never panics. Seeds are the labs and the invalid fixtures.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../labs/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lab, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if len(Problems(err)) == 0 {
				t.Fatalf("error lists no problems: %v", err)
			}
			return
		}
		for _, n := range lab.Nodes {
			if n.Name == "" || n.Image == "" {
				t.Fatalf("loaded node without name or image: %+v", n)
			}
			for _, i := range n.Interfaces {
				if i.Network == "" && i.Link == nil {
					t.Fatalf("loaded unconnected interface %s:%s", n.Name, i.Name)
				}
			}
		}
	})
}

// A "billion laughs" document is refused quickly, not expanded.
func TestAliasBomb(t *testing.T) {
	src := "name: x\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nnodes: {n: {image: *g}}\n"
	_, err := Parse([]byte(src), "bomb.yaml")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want a problem, got %v", err)
	}
}
