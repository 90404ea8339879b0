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
