package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/spec"
)

// The fixtures' conversions are pinned, and each loads as a lab file.
func TestConvertGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/kathara/*/lab.conf")
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	clabs, _ := filepath.Glob("testdata/clab/*.clab.yml")
	for _, src := range append(dirs, clabs...) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			var data []byte
			var notes []Note
			var err error
			if IsClab(src) {
				data, notes, err = Clab(src)
			} else {
				data, notes, err = Kathara(src)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spec.Parse(data, src); err != nil {
				t.Fatalf("converted %s does not load: %v", src, err)
			}
			abs, _ := filepath.Abs(filepath.Dir(src))
			got := strings.ReplaceAll(string(data), abs, "$TESTDATA")
			for _, n := range notes {
				got += "# note: " + strings.ReplaceAll(n.String(), abs, "$TESTDATA") + "\n"
			}
			golden.Check(t, strings.TrimSuffix(src, ".clab.yml")+".golden", got)
		})
	}
	if _, err := os.Stat("testdata/kathara/ospf-frr/r1/etc/frr/frr.conf"); err != nil {
		t.Fatal(err)
	}
}
