package graph

import (
	"flag"
	"fmt"
	"strings"
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

// A chain too long for an exact center and too deep to indent: every node
// is drawn once, and no line is indented past maxTextDepth levels.
func TestTextOfALongChain(t *testing.T) {
	lab, err := spec.Parse(labgen.Chain(2500), "chain.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := FromLab(lab).Text()
	cut, drawn := 0, map[string]int{}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "… ") {
			cut++ // a subtree cut above goes on from here
			continue
		}
		if indent := strings.Index(line, "── "); indent > 4*maxTextDepth*len("│") {
			t.Fatalf("line indented %d bytes: %.80s…", indent, line)
		}
		if i := strings.Index(line, " (router)"); i > 0 {
			drawn[line[strings.LastIndex(line[:i], " ")+1:i]]++
		}
	}
	if cut == 0 {
		t.Error("no subtree was cut: the chain should be deeper than maxTextDepth")
	}
	for i := 0; i < 2500; i++ {
		if n := drawn[fmt.Sprintf("r%d", i)]; n != 1 {
			t.Fatalf("r%d drawn %d times", i, n)
		}
	}
}
