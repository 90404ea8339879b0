package planner

import "slices"

// Without is the plan less the steps ids and every step that waits for
// one of them, however indirectly: a repair of a running lab without its
// nodes that were stopped on purpose (their start steps), which leaves
// their wiring, and their links to others, for when they start again.
func (p *Plan) Without(ids ...string) *Plan {
	if len(ids) == 0 {
		return p
	}
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	out := *p
	out.Steps, out.byID = nil, map[string]*Step{}
	for _, s := range p.Steps { // dependencies come before dependents
		if gone[s.ID] || slices.ContainsFunc(s.Deps, func(d string) bool { return gone[d] }) {
			gone[s.ID] = true
			continue
		}
		out.Steps = append(out.Steps, s)
		out.byID[s.ID] = s
	}
	return &out
}
