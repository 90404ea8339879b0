package graph

import (
	"flag"
	"fmt"
	"testing"

	"github.com/netlab/netlab/internal/labgen"
	"github.com/netlab/netlab/spec"
)

// benchNodes is the largest lab drawn; go test ./graph -bench . -args
// -nodes 100000 adds the biggest sizes.
var benchNodes = flag.Int("nodes", 20_000, "largest lab size (nodes) the benchmarks draw")

// BenchmarkDraw draws generated chains and stars as text and SVG. Compare
// ns/node across sizes for linearity.
func BenchmarkDraw(b *testing.B) {
	for _, topo := range []struct {
		name string
		gen  func(int) []byte
	}{{"chain", labgen.Chain}, {"star", labgen.Star}} {
		for _, n := range []int{1_000, 5_000, 20_000, 100_000} {
			if n > *benchNodes {
				continue
			}
			lab, err := spec.Parse(topo.gen(n), "gen.yaml")
			if err != nil {
				b.Fatal(err)
			}
			t := FromLab(lab)
			for format, draw := range map[string]func() string{"text": t.Text, "svg": t.SVG} {
				b.Run(fmt.Sprintf("%s/%s/nodes=%d", format, topo.name, n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						draw()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
				})
			}
		}
	}
}
