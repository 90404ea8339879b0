package graph

import (
	"slices"
	"sort"
)

// Layout: the topology becomes a graph of vertices (nodes and networks).
// Each connected part is drawn as a tree grown from its center (the vertex
// with the smallest eccentricity) by breadth-first search: layer k holds the
// vertices k hops from the center, every subtree gets a span as wide as its
// widest layer, and a parent stands centred over its children. Edges that
// the tree does not use (rings, second paths) are drawn as curves.

const (
	charW    = 7.2 // width of one character at fontSize in a monospace font
	fontSize = 12.0
	lineH    = 16.0
	pad      = 8.0
	hGap     = 24.0 // between neighbouring subtrees
	vGap     = 56.0 // between layers
	barH     = 22.0 // height of a network segment
	margin   = 24.0
	titleH   = 36.0
)

type vertex struct {
	node    *Node
	network *Network
	name    string // sort key: "node:" or "network:" prefixed

	w, h     float64 // box size (a network's w grows to its children's span)
	x, y     float64 // centre x, top y
	depth    int
	parent   int
	children []int
	span     float64 // width of the subtree
}

type edge struct {
	a, b         int
	aLabel       string // interface name at a
	bLabel       string // interface name at b
	middle       string // impairment text
	ends         string // the interfaces it joins, "node:iface" separated by spaces (for pages that colour them)
	tree         bool   // part of the layout tree
	pointToPoint bool
}

type layout struct {
	v      []*vertex
	adj    [][]int // vertex -> neighbours, in name order
	edges  []*edge
	width  float64
	height float64
}

func textWidth(s string) float64 { return float64(len([]rune(s))) * charW }

func newLayout(t *Topology) *layout {
	l := &layout{}
	idx := map[string]int{}
	for _, n := range t.Networks {
		idx["network:"+n.Name] = len(l.v)
		l.v = append(l.v, &vertex{network: n, name: "network:" + n.Name, parent: -1, w: textWidth(n.label()) + 2*pad, h: barH})
	}
	for _, n := range t.Nodes {
		lines := n.label()
		w := 0.0
		for _, s := range lines {
			w = max(w, textWidth(s))
		}
		idx["node:"+n.Name] = len(l.v)
		l.v = append(l.v, &vertex{node: n, name: "node:" + n.Name, parent: -1, w: w + 2*pad, h: float64(len(lines))*lineH + 2*pad - 4})
	}
	l.adj = make([][]int, len(l.v))
	connect := func(e *edge) {
		l.edges = append(l.edges, e)
		l.adj[e.a] = append(l.adj[e.a], e.b)
		l.adj[e.b] = append(l.adj[e.b], e.a)
	}
	for _, n := range t.Nodes {
		for _, i := range n.Interfaces {
			if i.Network != "" {
				connect(&edge{a: idx["node:"+n.Name], b: idx["network:"+i.Network], aLabel: i.Name, ends: n.Name + ":" + i.Name})
			}
		}
	}
	for _, k := range t.Links {
		an, ai := splitEnd(k.A)
		bn, bi := splitEnd(k.B)
		connect(&edge{a: idx["node:"+an], b: idx["node:"+bn], aLabel: ai, bLabel: bi, middle: k.Impair, pointToPoint: true, ends: k.A + " " + k.B})
	}
	for i := range l.adj {
		sort.Slice(l.adj[i], func(x, y int) bool { return l.v[l.adj[i][x]].name < l.v[l.adj[i][y]].name })
	}
	l.place()
	return l
}

// search is a breadth-first search over the layout's graph, run again and
// again: it resets only what the previous run set, so that a lab of many
// small parts is not searched in quadratic time.
type search struct {
	l      *layout
	dist   []int // distance from the root, -1 if not reached
	parent []int // the previous vertex on a shortest path from the root
	order  []int // the vertices reached, nearest first
}

func (l *layout) newSearch() *search {
	s := &search{l: l, dist: make([]int, len(l.v)), parent: make([]int, len(l.v))}
	for i := range s.dist {
		s.dist[i] = -1
	}
	return s
}

// from searches from root and returns the vertices reached, nearest first
// (valid until the next search).
func (s *search) from(root int) []int {
	for _, u := range s.order {
		s.dist[u] = -1
	}
	s.dist[root] = 0
	s.order = append(s.order[:0], root)
	for k := 0; k < len(s.order); k++ {
		u := s.order[k]
		for _, w := range s.l.adj[u] {
			if s.dist[w] < 0 {
				s.dist[w] = s.dist[u] + 1
				s.parent[w] = u
				s.order = append(s.order, w)
			}
		}
	}
	return s.order
}

// components returns the connected parts, each as vertex indexes.
func (l *layout) components() [][]int {
	var parts [][]int
	seen := make([]bool, len(l.v))
	bfs := l.newSearch()
	order := make([]int, len(l.v))
	for i := range order {
		order[i] = i
	}
	// Start from nodes before networks, in name order, for a stable result.
	sort.Slice(order, func(a, b int) bool { return l.v[order[a]].name > l.v[order[b]].name })
	for _, i := range order {
		if seen[i] {
			continue
		}
		part := slices.Clone(bfs.from(i))
		for _, u := range part {
			seen[u] = true
		}
		parts = append(parts, part)
	}
	return parts
}

// exactCenter is the most vertices a connected part may have for its
// center to be found exactly, by a breadth-first search from each vertex:
// the time that takes grows with the square of the part's size.
const exactCenter = 2000

// center returns the vertex of the part with the smallest eccentricity,
// preferring nodes (a router is a better root than a segment), then names.
// A part bigger than exactCenter is centred at the middle of a longest
// shortest path, found by two searches: the center for a tree, near it
// otherwise.
func (l *layout) center(part []int, bfs *search) int {
	best, bestEcc := -1, 0
	sorted := append([]int(nil), part...)
	sort.Slice(sorted, func(a, b int) bool { return l.v[sorted[a]].name > l.v[sorted[b]].name })
	if len(part) > exactCenter {
		order := bfs.from(sorted[0])
		a := order[len(order)-1] // the farthest from the first vertex
		order = bfs.from(a)
		path := []int{order[len(order)-1]} // from the farthest from a back to a
		for u := path[0]; u != a; u = bfs.parent[u] {
			path = append(path, bfs.parent[u])
		}
		return path[len(path)/2]
	}
	for _, u := range sorted {
		order := bfs.from(u)
		ecc := bfs.dist[order[len(order)-1]]
		if best < 0 || ecc < bestEcc {
			best, bestEcc = u, ecc
		}
	}
	return best
}

func (l *layout) place() {
	x := margin
	top := margin + titleH
	bottom := top
	bfs := l.newSearch()
	for _, part := range l.components() {
		root := l.center(part, bfs)
		l.tree(root, bfs)
		l.measure(root)
		heights := map[int]float64{}
		for _, u := range part {
			heights[l.v[u].depth] = max(heights[l.v[u].depth], l.v[u].h)
		}
		ys := map[int]float64{}
		y := top
		for d := 0; d < len(heights); d++ {
			ys[d] = y
			y += heights[d] + vGap
		}
		l.position(root, x, ys, heights)
		x += l.v[root].span + 2*hGap
		bottom = max(bottom, y-vGap)
	}
	l.treeEdges()
	l.width = max(x-2*hGap+margin, 660) // the legend's width
	l.height = bottom + margin + 28     // legend
}

// tree grows the BFS tree from root: depths, parents, children. Each
// parent-child pair is drawn by one tree edge (see treeEdges); other edges
// are curves.
func (l *layout) tree(root int, bfs *search) {
	order := bfs.from(root)
	dist := bfs.dist
	for _, u := range order {
		l.v[u].depth = dist[u]
		for _, w := range l.adj[u] {
			if dist[w] == dist[u]+1 && l.v[w].parent < 0 && w != root {
				l.v[w].parent = u
				l.v[u].children = append(l.v[u].children, w)
			}
		}
	}
}

// treeEdges marks the edges that draw the trees: one per parent-child pair.
func (l *layout) treeEdges() {
	taken := map[[2]int]bool{}
	for _, e := range l.edges {
		pair := [2]int{min(e.a, e.b), max(e.a, e.b)}
		if (l.v[e.a].parent == e.b || l.v[e.b].parent == e.a) && !taken[pair] {
			e.tree, taken[pair] = true, true
		}
	}
}

// measure computes subtree spans bottom-up; a network's bar stretches over
// its children.
func (l *layout) measure(u int) float64 {
	v := l.v[u]
	kids := 0.0
	for i, c := range v.children {
		if i > 0 {
			kids += hGap
		}
		kids += l.measure(c)
	}
	if v.network != nil && len(v.children) > 0 {
		v.w = max(v.w, kids)
	}
	v.span = max(v.w, kids)
	return v.span
}

func (l *layout) position(u int, left float64, ys map[int]float64, heights map[int]float64) {
	v := l.v[u]
	v.x = left + v.span/2
	v.y = ys[v.depth]
	if v.network != nil { // bars sit at the middle of their layer
		v.y += (heights[v.depth] - v.h) / 2
	}
	kids := 0.0
	for i, c := range v.children {
		if i > 0 {
			kids += hGap
		}
		kids += l.v[c].span
	}
	x := left + (v.span-kids)/2
	for _, c := range v.children {
		l.position(c, x, ys, heights)
		x += l.v[c].span + hGap
	}
}
