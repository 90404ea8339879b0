package planner

import (
	"flag"
	"fmt"
	"testing"

	"github.com/netlab/netlab/internal/labgen"
	"github.com/netlab/netlab/spec"
)

// benchNodes is the largest lab benchmarked. The default keeps make bench
// short; go test ./planner -bench . -args -nodes 100000 (make bench-big)
// adds the sizes up to spec.MaxNodes.
var benchNodes = flag.Int("nodes", 20_000, "largest lab size (nodes) the benchmarks plan")

// benchSizes are the lab sizes benchmarked: time per node (ns/node) should
// stay flat from the smallest to the largest.
func benchSizes() []int {
	var out []int
	for _, n := range []int{1_000, 5_000, 20_000, 100_000} {
		if n <= *benchNodes {
			out = append(out, n)
		}
	}
	return out
}

var topologies = []struct {
	name string
	gen  func(int) []byte
}{{"chain", labgen.Chain}, {"star", labgen.Star}}

func TestGeneratedLabsAreValid(t *testing.T) {
	for _, topo := range topologies {
		lab, err := spec.Parse(topo.gen(200), topo.name+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(lab)
		if err != nil {
			t.Fatal(err)
		}
		if p.Count(KindCreate) != 200 || p.Count(KindLink)+p.Count(KindRelay) != 199 || p.Count(KindBridge) != len(lab.Networks) {
			t.Errorf("%s: %s", topo.name, p.Summary())
		}
	}
}

// BenchmarkLoad loads labs (YAML, schema, checks, address allocation),
// BenchmarkBuild plans already-loaded ones. Compare ns/node across sizes.
func BenchmarkLoad(b *testing.B) {
	for _, topo := range topologies {
		for _, n := range benchSizes() {
			data := topo.gen(n)
			b.Run(fmt.Sprintf("%s/nodes=%d", topo.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := spec.Parse(data, "gen.yaml"); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, topo := range topologies {
		for _, n := range benchSizes() {
			lab, err := spec.Parse(topo.gen(n), "gen.yaml")
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/nodes=%d", topo.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Build(lab); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}
