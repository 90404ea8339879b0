package graph

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// SVG draws the topology as a standalone SVG picture.
func (t *Topology) SVG() string {
	l := newLayout(t)
	var b strings.Builder
	f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%g">`+"\n",
		f(l.width), f(l.height), f(l.width), f(l.height), fontSize)
	fmt.Fprintf(&b, `<title>lab %s</title>`+"\n", esc(t.Lab))
	b.WriteString(`<style>.lbl{font-size:10px;fill:#37474f}.imp{font-size:10px;fill:#b71c1c;font-style:italic}.hostname{fill:#607d8b;font-style:italic}</style>` + "\n")
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="15" font-weight="bold" fill="#263238">lab %s</text>`, f(margin), f(margin+12), esc(t.Lab))
	fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="#607d8b"> %s</text>`+"\n",
		f(margin+textWidth("lab "+t.Lab)*15/12+8), f(margin+12), t.counts())

	// Edges first, under the boxes.
	ends := l.spreadEnds()
	for k, e := range l.edges {
		a, z := l.v[e.a], l.v[e.b]
		ax, ay, zx, zy, side := attach(a, z)
		if !side {
			ax, zx = ends[k][0], ends[k][1]
		}
		color, width := segmentColor, 1.5
		if e.pointToPoint {
			color, width = "#263238", 2.5
		}
		dash := ""
		if e.middle != "" {
			dash = ` stroke-dasharray="6 3"`
		}
		dash += fmt.Sprintf(` class="edge" data-ends="%s"`, esc(e.ends))
		if e.tree || (side && math.Abs(ay-zy) < 1) || ax == zx {
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%g"%s/>`+"\n", f(ax), f(ay), f(zx), f(zy), color, width, dash)
		} else {
			c1x, c1y, c2x, c2y := ax, ay+40*sign(zy-ay), zx, zy-40*sign(zy-ay)
			if side {
				c1x, c1y, c2x, c2y = ax+40*sign(zx-ax), ay, zx-40*sign(zx-ax), zy
			}
			fmt.Fprintf(&b, `<path d="M%s %s C%s %s %s %s %s %s" fill="none" stroke="%s" stroke-width="%g"%s/>`+"\n",
				f(ax), f(ay), f(c1x), f(c1y), f(c2x), f(c2y), f(zx), f(zy), color, width, dash)
		}
		// Interface names stand just outside the box, beside the edge.
		label := func(s string, x, y, otherY float64) {
			if s == "" {
				return
			}
			if side {
				fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%s">%s</text>`+"\n", f(x+4*sign(zx-ax)), f(y-4), esc(s))
				return
			}
			ly := y + 12 // below a bottom side
			if otherY < y {
				ly = y - 4 // above a top side
			}
			fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%s">%s</text>`+"\n", f(x+4), f(ly), esc(s))
		}
		label(e.aLabel, ax, ay, zy)
		label(e.bLabel, zx, zy, ay)
		if e.middle != "" {
			fmt.Fprintf(&b, `<text class="imp" x="%s" y="%s">%s</text>`+"\n", f((ax+zx)/2+6), f((ay+zy)/2), esc(e.middle))
		}
	}

	for _, v := range l.v {
		left := v.x - v.w/2
		if v.network != nil {
			class, color := "network", segmentColor
			if v.network.Isolated {
				class, color = "network isolated", isolatedColor
			}
			fmt.Fprintf(&b, `<g class="%s" id="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="%s"/>`,
				class, esc("network-"+v.network.Name), f(left), f(v.y), f(v.w), f(v.h), color)
			fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#ffffff" text-anchor="middle">%s</text></g>`+"\n", f(v.x), f(v.y+15), esc(v.network.label()))
			continue
		}
		n := v.node
		s := styles[n.Role]
		fmt.Fprintf(&b, `<g class="node %s" id="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="%s" stroke="%s" stroke-width="1.5"/>`,
			n.Role, esc("node-"+n.Name), f(left), f(v.y), f(v.w), f(v.h), s.fill, s.stroke)
		for i, line := range n.label() {
			attrs := ""
			switch {
			case i == 0:
				attrs = ` font-weight="bold" fill="#212121"`
			case i == 1 && n.Hostname != "":
				attrs = ` class="hostname"`
			default:
				attrs = ` fill="#263238"`
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s"%s>%s</text>`, f(left+pad), f(v.y+pad+float64(i)*lineH+8), attrs, esc(line))
		}
		b.WriteString("</g>\n")
	}

	// Legend.
	x, y := margin, l.height-margin-6
	for _, r := range []Role{RoleHost, RoleServer, RoleRouter, RoleNAT} {
		s := styles[r]
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="14" height="12" rx="3" fill="%s" stroke="%s"/><text class="lbl" x="%s" y="%s">%s</text>`,
			f(x), f(y-10), s.fill, s.stroke, f(x+18), f(y), roleTitle[r])
		x += 18 + textWidth(roleTitle[r]) + 20
	}
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="22" height="8" rx="2" fill="%s"/><text class="lbl" x="%s" y="%s">network (bridge)</text>`,
		f(x), f(y-8), segmentColor, f(x+26), f(y))
	x += 26 + textWidth("network (bridge)") + 20
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#263238" stroke-width="2.5"/><text class="lbl" x="%s" y="%s">point-to-point link</text>`+"\n",
		f(x), f(y-4), f(x+22), f(y-4), f(x+26), f(y))
	b.WriteString("</svg>\n")
	return b.String()
}

// spreadEnds spaces the edges that leave a node box through the same side
// along that side, ordered by where their other ends are, so that they and
// their labels do not start from one point. It returns each edge's x at
// its a and z ends.
func (l *layout) spreadEnds() [][2]float64 {
	type use struct {
		edge, end int // end 0 is a, 1 is z
		otherX    float64
	}
	out := make([][2]float64, len(l.edges))
	sides := map[[2]int][]use{} // (vertex, 0 bottom / 1 top) -> uses
	for k, e := range l.edges {
		a, z := l.v[e.a], l.v[e.b]
		ax, _, zx, _, side := attach(a, z)
		out[k] = [2]float64{ax, zx}
		if side {
			continue
		}
		aBelow := 0
		if z.y+z.h <= a.y {
			aBelow = 1 // a's top side
		}
		if a.node != nil {
			sides[[2]int{e.a, aBelow}] = append(sides[[2]int{e.a, aBelow}], use{k, 0, zx})
		}
		if z.node != nil {
			sides[[2]int{e.b, 1 - aBelow}] = append(sides[[2]int{e.b, 1 - aBelow}], use{k, 1, ax})
		}
	}
	for key, uses := range sides {
		if len(uses) < 2 {
			continue
		}
		sort.SliceStable(uses, func(i, j int) bool { return uses[i].otherX < uses[j].otherX })
		v := l.v[key[0]]
		for i, u := range uses {
			out[u.edge][u.end] = v.x - v.w/2 + v.w*float64(i+1)/float64(len(uses)+1)
		}
	}
	return out
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// attach picks where an edge meets its two vertices: bottom and top when one
// is above the other, facing sides when they share a layer. On a network
// bar the point slides along the bar towards the other end.
func attach(a, z *vertex) (ax, ay, zx, zy float64, side bool) {
	onBar := func(bar, other *vertex) float64 {
		l, r := bar.x-bar.w/2+6, bar.x+bar.w/2-6
		return math.Min(math.Max(other.x, l), r)
	}
	xOf := func(v, other *vertex) float64 {
		if v.network != nil {
			return onBar(v, other)
		}
		return v.x
	}
	switch {
	case a.y+a.h <= z.y:
		return xOf(a, z), a.y + a.h, xOf(z, a), z.y, false
	case z.y+z.h <= a.y:
		return xOf(a, z), a.y, xOf(z, a), z.y + z.h, false
	case a.x <= z.x:
		return a.x + a.w/2, a.y + a.h/2, z.x - z.w/2, z.y + z.h/2, true
	default:
		return a.x - a.w/2, a.y + a.h/2, z.x + z.w/2, z.y + z.h/2, true
	}
}
