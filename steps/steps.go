// Package steps holds every kind of plan step in one place: each kind has
// a file of its own with its three sides, side by side: how a step of the
// kind reads (Describe: netlab plan, up's progress line), how this host
// carries it out (Do, through the Executor), and what of the host it keeps
// (Owns, which converge.Diff compares with what runs).
//
// A new kind of step is a constant and a payload in planner (which
// decides when a lab needs one), a file here with its Kind, and its line
// in the kinds table below; nothing else switches over kinds.
//
// The kinds live here rather than in planner because Do needs the host
// (engine, wire, hostproc) and planner stays pure; and rather than in
// converge because wire reads observed state into converge's types. The
// planner's steps carry all a kind needs, so Describe and Owns are pure
// functions of the step, tested without root.
package steps

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/planner"
)

// Kind is one kind of plan step, whole.
type Kind struct {
	// Describe says in words what a step of the kind does, in one line.
	Describe func(s *planner.Step) string
	// Do carries a step out, ensure-style: it does what is missing and
	// reports whether it changed anything, so that running a plan again
	// repairs a lab and changes nothing on one that is whole.
	Do func(ctx context.Context, e *Executor, s *planner.Step) (bool, error)
	// Owns is what of the host a step keeps, for converge.Diff: up
	// removes what the lab has and no step owns, and makes again what a
	// step owns and differs. Nil for kinds that own nothing Diff looks at
	// (their objects go with a node or a host interface that some step
	// owns, or Do alone repairs them).
	Owns func(s *planner.Step) converge.Owned
}

// kinds is every kind of step; TestEveryKind checks that no planner kind
// is missing.
var kinds = map[planner.Kind]*Kind{
	planner.KindBridge:   &bridge,
	planner.KindHostFW:   &hostFW,
	planner.KindCreate:   &create,
	planner.KindStart:    &start,
	planner.KindHosts:    &hosts,
	planner.KindLink:     &link,
	planner.KindPort:     &port,
	planner.KindMacvlan:  &macvlan,
	planner.KindVLANIf:   &vlanIf,
	planner.KindHostLink: &hostLink,
	planner.KindAddr:     &addr,
	planner.KindRelay:    &relay,
	planner.KindRoute:    &route,
	planner.KindNAT:      &nat,
	planner.KindNDPProxy: &ndpProxy,
	planner.KindFirewall: &firewall,
	planner.KindIsolate:  &isolate,
	planner.KindPublish:  &publish,
	planner.KindDHCPD:    &dhcpd,
	planner.KindReady:    &ready,
	planner.KindLease:    &lease,
}

// Describe says in words what the step does.
func Describe(s *planner.Step) string {
	if k := kinds[s.Kind]; k != nil {
		return k.Describe(s)
	}
	return string(s.Kind)
}

// Owns is what of the host the step keeps (see Kind.Owns); converge.Diff
// takes it.
func Owns(s *planner.Step) converge.Owned {
	if k := kinds[s.Kind]; k != nil && k.Owns != nil {
		return k.Owns(s)
	}
	return converge.Owned{}
}

// Table lists a plan's steps under its summary, one a line, with what
// each waits for. It is deterministic: the planner's golden files pin it.
func Table(p *planner.Plan) string {
	var b strings.Builder
	b.WriteString(p.Summary() + "\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "#\tSTEP\tACTION\tAFTER")
	for i, s := range p.Steps {
		deps := "-"
		if len(s.Deps) > 0 {
			deps = strings.Join(s.Deps, " ")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", i+1, s.ID, Describe(s), deps)
	}
	w.Flush()
	return b.String()
}

// maxDescribed is the most items (addresses, networks) a description
// lists: it stays one line however big the lab, and a table of steps
// (netlab plan) does not grow with the square of the lab's size.
const maxDescribed = 10

// some joins items with sep, the first maxDescribed of them and how many
// more there are.
func some(items []string, sep string) string {
	if len(items) <= maxDescribed {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:maxDescribed], sep) + fmt.Sprintf("%sand %d more", sep, len(items)-maxDescribed)
}

// strs writes each of items with its String method.
func strs[T fmt.Stringer](items []T) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = x.String()
	}
	return out
}
