package matrix

import (
	"fmt"

	"github.com/netlab/netlab/spec"
)

// The verdicts on a path.
const (
	Valid   = "valid"    // valley-free: up through providers, at most one peer link, down through customers
	Invalid = "invalid"  // against the relations: a valley, or two peer links
	Unknown = "unknown"  // two ASes on the path have no relation in the lab file
	NoRoute = "no-route" // the source's router has no BGP path to the destination
)

// Judge says whether the AS path from AS src (as src's router holds it:
// the neighbor AS first, the origin last) is valley-free, and why not.
// Route servers' ASes are skipped, and prepended ASes count once.
func (p *Plan) Judge(src int, asPath []int) (verdict, why string) {
	hops := []int{src}
	for _, a := range asPath {
		if !p.rel.servers[a] && a != hops[len(hops)-1] {
			hops = append(hops, a)
		}
	}
	down := false // past the top: only customers may follow
	for i := 0; i+1 < len(hops); i++ {
		a, b := hops[i], hops[i+1]
		switch rel := p.rel.of(a, b); {
		case rel == "":
			return Unknown, fmt.Sprintf("no relation between AS %d and AS %d in the lab file", a, b)
		case rel == spec.RelationProvider && down:
			return Invalid, fmt.Sprintf("a valley: AS %d sends up to its provider AS %d after going across or down", a, b)
		case rel == spec.RelationPeer && down:
			return Invalid, fmt.Sprintf("AS %d sends to its peer AS %d after going across or down", a, b)
		case rel != spec.RelationProvider:
			down = true
		}
	}
	return Valid, ""
}
