package graph

import (
	"fmt"
	"regexp"
	"strings"
)

// DOT renders the topology for Graphviz.
func (t *Topology) DOT() string {
	var b strings.Builder
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	fmt.Fprintf(&b, "graph %s {\n", q(t.Lab))
	fmt.Fprintf(&b, "  graph [label=%s, labelloc=t, fontname=\"Helvetica\", nodesep=0.4, ranksep=0.6];\n", q("lab "+t.Lab))
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range t.Networks {
		fmt.Fprintf(&b, "  %s [label=%s, shape=box, style=filled, fillcolor=%q, fontcolor=white, height=0.25];\n",
			q("net:"+n.Name), q(n.label()), segmentColor)
	}
	for _, n := range t.Nodes {
		s := styles[n.Role]
		fmt.Fprintf(&b, "  %s [label=%s, fillcolor=%q, color=%q];\n", q(n.Name), q(strings.Join(n.label(), `\n`)), s.fill, s.stroke)
	}
	for _, n := range t.Nodes {
		for _, i := range n.Interfaces {
			if i.Network != "" {
				fmt.Fprintf(&b, "  %s -- %s [label=%s];\n", q(n.Name), q("net:"+i.Network), q(i.Name))
			}
		}
	}
	for _, l := range t.Links {
		an, ai := splitEnd(l.A)
		bn, bi := splitEnd(l.B)
		attrs := fmt.Sprintf("taillabel=%s, headlabel=%s, penwidth=2", q(ai), q(bi))
		if l.Impair != "" {
			attrs += ", style=dashed, label=" + q(l.Impair)
		}
		fmt.Fprintf(&b, "  %s -- %s [%s];\n", q(an), q(bn), attrs)
	}
	b.WriteString("}\n")
	return b.String()
}

var mermaidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// Mermaid renders the topology as a Mermaid flowchart (GitHub and GitLab
// draw these in Markdown).
func (t *Topology) Mermaid() string {
	var b strings.Builder
	id := func(prefix, s string) string { return prefix + mermaidUnsafe.ReplaceAllString(s, "_") }
	esc := func(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }
	fmt.Fprintf(&b, "---\ntitle: lab %s\n---\nflowchart TB\n", t.Lab)
	for _, n := range t.Networks {
		fmt.Fprintf(&b, "  %s[[\"%s\"]]\n", id("net_", n.Name), esc(n.label()))
	}
	for _, n := range t.Nodes {
		lines := n.label()
		lines[0] = "<b>" + lines[0] + "</b>"
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id("n_", n.Name), esc(strings.Join(lines, "<br/>")))
	}
	for _, n := range t.Nodes {
		for _, i := range n.Interfaces {
			if i.Network != "" {
				fmt.Fprintf(&b, "  %s ---|%s| %s\n", id("n_", n.Name), i.Name, id("net_", i.Network))
			}
		}
	}
	for _, l := range t.Links {
		an, ai := splitEnd(l.A)
		bn, bi := splitEnd(l.B)
		text := ai + " – " + bi
		if l.Impair != "" {
			text += " (" + l.Impair + ")"
		}
		fmt.Fprintf(&b, "  %s ===|\"%s\"| %s\n", id("n_", an), esc(text), id("n_", bn))
	}
	for _, r := range []Role{RoleHost, RoleServer, RoleRouter, RoleNAT} {
		s := styles[r]
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s,color:#222\n", r, s.fill, s.stroke)
	}
	fmt.Fprintf(&b, "  classDef segment fill:%s,stroke:%s,color:#fff\n", segmentColor, segmentColor)
	byRole := map[Role][]string{}
	for _, n := range t.Nodes {
		byRole[n.Role] = append(byRole[n.Role], id("n_", n.Name))
	}
	for _, r := range []Role{RoleHost, RoleServer, RoleRouter, RoleNAT} {
		if len(byRole[r]) > 0 {
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(byRole[r], ","), r)
		}
	}
	if len(t.Networks) > 0 {
		var nets []string
		for _, n := range t.Networks {
			nets = append(nets, id("net_", n.Name))
		}
		fmt.Fprintf(&b, "  class %s segment\n", strings.Join(nets, ","))
	}
	return b.String()
}

// maxTextDepth is how deep Text indents a tree. A deeper subtree (a long
// chain of routers) is cut there, marked " …", and drawn after the trees
// from a line "… NODE", so that the text grows with the lab and not with
// the square of its depth.
const maxTextDepth = 32

// Text draws the topology as an indented tree for a terminal: the same tree
// the SVG is laid out on, grown from the center of the network.
func (t *Topology) Text() string {
	l := newLayout(t)
	var b strings.Builder
	fmt.Fprintf(&b, "lab %s: %s\n", t.Lab, t.counts())
	treeEdge := map[[2]int]*edge{}
	var others []*edge
	for _, e := range l.edges {
		if e.tree {
			treeEdge[[2]int{e.a, e.b}], treeEdge[[2]int{e.b, e.a}] = e, e
		} else {
			others = append(others, e)
		}
	}
	describe := func(v *vertex) string {
		if v.network != nil {
			return "[" + v.network.label() + "]"
		}
		lines := v.node.label()
		return lines[0] + "  " + strings.Join(lines[1:], ", ")
	}
	// via tells how a child hangs from its parent: the interface names.
	via := func(parent, child int) string {
		e := treeEdge[[2]int{parent, child}]
		from, to := e.aLabel, e.bLabel
		if e.a != parent {
			from, to = to, from
		}
		switch {
		case e.pointToPoint:
			s := from + " ══ " + to
			if e.middle != "" {
				s += " (" + e.middle + ")"
			}
			return s + "  "
		case l.v[child].network != nil:
			return from + " ── "
		default:
			return to + "  "
		}
	}
	var cut []int // subtrees too deep to indent further, drawn after the trees
	var walk func(u, depth int, prefix string)
	walk = func(u, depth int, prefix string) {
		kids := l.v[u].children
		for i, c := range kids {
			branch, next := "├── ", "│   "
			if i == len(kids)-1 {
				branch, next = "└── ", "    "
			}
			b.WriteString(prefix + branch + via(u, c) + describe(l.v[c]))
			if depth+1 == maxTextDepth && len(l.v[c].children) > 0 {
				b.WriteString(" …\n")
				cut = append(cut, c)
				continue
			}
			b.WriteString("\n")
			walk(c, depth+1, prefix+next)
		}
	}
	for u, v := range l.v {
		if v.parent < 0 {
			b.WriteString(describe(v) + "\n")
			walk(u, 0, "")
		}
	}
	for k := 0; k < len(cut); k++ {
		b.WriteString("… " + describe(l.v[cut[k]]) + "\n")
		walk(cut[k], 0, "")
	}
	for _, e := range others {
		sep := " ── "
		if e.pointToPoint {
			sep = " ══ "
		}
		end := func(v *vertex, iface string) string {
			if v.network != nil {
				return "[" + v.network.Name + "]"
			}
			return v.node.Name + ":" + iface
		}
		fmt.Fprintf(&b, "also: %s%s%s\n", end(l.v[e.a], e.aLabel), sep, end(l.v[e.b], e.bLabel))
	}
	return b.String()
}
