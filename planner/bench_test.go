package planner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netlab/netlab/spec"
)

// genLab writes a lab of n nodes, 2n point-to-point links (/30 each) and
// n/10 LANs whose members get allocated addresses.
func genLab(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: gen%d\ndefaults: {image: netlab/tiny}\nnetworks:\n", n)
	for k := 0; k < (n+9)/10; k++ {
		fmt.Fprintf(&b, "  lan%d: {subnet: 172.%d.%d.0/24}\n", k, 16+k/256, k%256)
	}
	ifaces := make([][]string, n)
	var links strings.Builder
	for i := 0; i < 2*n; i++ {
		a, z := i%n, (i*7+1)%n
		if a == z {
			z = (z + 1) % n
		}
		base := 4 * i
		ip := func(off int) string {
			return fmt.Sprintf("10.%d.%d.%d/30", (base+off)>>16, ((base+off)>>8)&255, (base+off)&255)
		}
		na, nz := fmt.Sprintf("p%d", len(ifaces[a])), fmt.Sprintf("p%d", len(ifaces[z]))
		ifaces[a] = append(ifaces[a], fmt.Sprintf("      %s: {address: %s}\n", na, ip(1)))
		ifaces[z] = append(ifaces[z], fmt.Sprintf("      %s: {address: %s}\n", nz, ip(2)))
		fmt.Fprintf(&links, "  - [n%d:%s, n%d:%s]\n", a, na, z, nz)
	}
	b.WriteString("nodes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  n%d:\n    forward: true\n    interfaces:\n      eth0: {network: lan%d}\n%s", i, i/10, strings.Join(ifaces[i], ""))
	}
	b.WriteString("links:\n" + links.String())
	return []byte(b.String())
}

func TestGeneratedLabIsValid(t *testing.T) {
	lab, err := spec.Parse(genLab(100), "gen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count(KindCreate) != 100 || p.Count(KindLink) != 200 || p.Count(KindBridge) != 10 {
		t.Fatal(p.Summary())
	}
}

// benchSizes are the lab sizes benchmarked, up to spec.MaxNodes: time per
// node (ns/node) should stay flat from the smallest to the largest.
var benchSizes = []int{250, 1000, 10000, 100000}

// BenchmarkBuild plans already-loaded labs; BenchmarkLoadAndBuild adds
// parsing, schema and checks. Compare ns/node across sizes for linearity.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		lab, err := spec.Parse(genLab(n), "gen.yaml")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("nodes=%d/links=%d", n, 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Build(lab); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}

func BenchmarkLoadAndBuild(b *testing.B) {
	for _, n := range benchSizes {
		data := genLab(n)
		b.Run(fmt.Sprintf("nodes=%d/links=%d", n, 2*n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				lab, err := spec.Parse(data, "gen.yaml")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Build(lab); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}
