package convert

import (
	"bufio"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/spec"
)

// A Kathará lab shapes a link with tc's netem in a device's startup
// (tc qdisc add dev eth0 root netem delay 10ms loss 10%). netlab impairs a
// point-to-point link with its own relay instead, which needs no netem in
// the kernel: the converter turns such a line into the link's delay,
// jitter, loss and rate, and the device's startup runs without it (so a
// kernel that has netem does not impair the link twice). A tc line it
// cannot map is noted with its file and line, and runs as written.

// impairment is a netem line mapped to a link's impairments.
type impairment struct {
	delay, jitter, loss, rate string
	file                      string // the startup file, as the lab names it
	line                      int
}

// tcNetem is a tc qdisc add|replace line with netem among its words.
var tcNetem = regexp.MustCompile(`^\s*tc\s+qdisc\s+(add|replace)\s+(.*\bnetem\b.*)$`)

// tcUnits are netem's time units in Go's duration words; a bare number is
// microseconds, as tc reads it.
var tcUnits = map[string]string{
	"s": "s", "sec": "s", "secs": "s", "ms": "ms", "msec": "ms", "msecs": "ms",
	"us": "us", "usec": "us", "usecs": "us", "": "us",
}

var tcRate = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[kmgt]?(bit|bps)$`)

var tcTime = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([a-z]*)$`)

// netemLines reads a device's startup files (shared.startup, then
// NODE.startup) and returns the netem lines it can map, by interface
// index, and notes for the tc netem lines it cannot.
func netemLines(dir string, n *katharaNode, notes *[]Note) map[int]impairment {
	out := map[int]impairment{}
	for _, f := range []string{"shared.startup", n.name + ".startup"} {
		if !fileExists(dir, f) {
			continue
		}
		data, err := spec.ReadLabFile(dir, f, MaxLabConfBytes)
		if err != nil {
			continue // the startup is read again by the node; nothing to map here
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for ln := 1; sc.Scan(); ln++ {
			m := tcNetem.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			at := Note{File: filepath.Join(dir, f), Line: ln}
			idx, im, why := parseNetem(strings.Fields(m[2]))
			switch {
			case why != "":
				at.Msg = fmt.Sprintf("%s: tc netem line not mapped (%s); it runs in the node as written, and fails where the kernel has no netem", n.name, why)
				*notes = append(*notes, at)
				continue
			case n.ifaces[idx] == "":
				at.Msg = fmt.Sprintf("%s: tc netem on eth%d, which lab.conf does not give %s: not mapped", n.name, idx, n.name)
				*notes = append(*notes, at)
				continue
			}
			if _, dup := out[idx]; dup {
				at.Msg = fmt.Sprintf("%s: a second tc netem line for eth%d: the last one is mapped", n.name, idx)
				*notes = append(*notes, at)
			}
			im.file, im.line = f, ln
			out[idx] = im
		}
	}
	return out
}

// parseNetem reads the words after tc qdisc add|replace: dev ethN, root,
// netem and netem's delay TIME [JITTER], loss [random] PERCENT% and rate
// RATE. Anything else (a parent class, duplicate, corrupt, reorder, a
// correlation, a distribution, limit) is why the line is not mapped.
func parseNetem(w []string) (idx int, im impairment, why string) {
	idx = -1
	root := false
	i := 0
	for ; i < len(w) && w[i] != "netem"; i++ {
		switch {
		case w[i] == "dev" && i+1 < len(w):
			n, ok := strings.CutPrefix(w[i+1], "eth")
			v, err := strconv.Atoi(n)
			if !ok || err != nil || v < 0 {
				return 0, im, fmt.Sprintf("dev %s is not an ethN interface", w[i+1])
			}
			idx = v
			i++
		case w[i] == "root":
			root = true
		case w[i] == "handle" && i+1 < len(w):
			i++
		default:
			return 0, im, fmt.Sprintf("%q: only a root netem qdisc maps to a link", w[i])
		}
	}
	if idx < 0 || !root {
		return 0, im, "it names no dev ethN with root"
	}
	for i++; i < len(w); i++ {
		next := func() string {
			if i+1 < len(w) {
				i++
				return w[i]
			}
			return ""
		}
		switch w[i] {
		case "delay":
			if im.delay = tcDuration(next()); im.delay == "" {
				return 0, im, "delay needs a time like 10ms"
			}
			if i+1 < len(w) {
				if j := tcDuration(w[i+1]); j != "" {
					im.jitter = j
					i++
				}
			}
		case "loss":
			v := next()
			if v == "random" {
				v = next()
			}
			if !strings.HasSuffix(v, "%") {
				return 0, im, "loss needs a percentage like 10%"
			}
			im.loss = v
		case "rate":
			if im.rate = strings.ToLower(next()); !tcRate.MatchString(im.rate) {
				return 0, im, "rate needs a rate like 1mbit"
			}
		default:
			return 0, im, fmt.Sprintf("netem's %s has no counterpart in netlab's link impairments (delay, jitter, loss, rate)", w[i])
		}
	}
	if im == (impairment{}) {
		return 0, im, "netem with nothing to do"
	}
	check := spec.Link{HostEnd: -1} // the bounds a lab file's link has
	if err := check.SetImpairment(im.delay, im.jitter, im.loss, im.rate); err != nil {
		return 0, im, strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return idx, im, ""
}

// tcDuration is a tc time (10ms, 1.5msec, 100us, 250 for µs) as a Go
// duration, or "".
func tcDuration(s string) string {
	m := tcTime.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	u, ok := tcUnits[m[2]]
	if !ok {
		return ""
	}
	return m[1] + u
}

// impairedLinks finds the collision domains the devices' netem lines
// shape: a domain of exactly two devices becomes an impaired link (the
// impairments of both ends' lines together: netlab's relay applies them
// in each direction), and the devices' startups skip the mapped lines.
// A netem line on a domain of more devices is noted: netlab impairs
// point-to-point links only.
func impairedLinks(dir string, order []string, nodes map[string]*katharaNode, notes *[]Note) map[string]*domainLink {
	members := map[string][]endpoint{}
	for _, name := range order {
		n := nodes[name]
		if captureImage(n.image) {
			continue
		}
		for i, d := range n.ifaces {
			members[d] = append(members[d], endpoint{n, i})
		}
	}
	links := map[string]*domainLink{}
	for _, name := range order {
		n := nodes[name]
		if captureImage(n.image) {
			continue
		}
		lines := netemLines(dir, n, notes)
		for _, idx := range slices.Sorted(maps.Keys(lines)) {
			im, dom := lines[idx], n.ifaces[idx]
			if len(members[dom]) != 2 || members[dom][0].n == members[dom][1].n {
				*notes = append(*notes, Note{filepath.Join(dir, im.file), im.line, fmt.Sprintf(
					"%s: tc netem on eth%d not mapped: collision domain %s joins %d interfaces, and netlab impairs point-to-point links only; it runs in the node as written",
					n.name, idx, dom, len(members[dom]))})
				continue
			}
			l := links[dom]
			if l == nil {
				l = &domainLink{ends: [2]endpoint(members[dom])}
				links[dom] = l
			}
			l.merge(im)
			if n.skip == nil {
				n.skip = map[string][]int{}
			}
			n.skip[im.file] = append(n.skip[im.file], im.line)
			slices.Sort(n.skip[im.file])
			*notes = append(*notes, Note{filepath.Join(dir, im.file), im.line, fmt.Sprintf(
				"%s: tc netem on eth%d is link %s's impairment, by netlab's relay (no netem needed), and the startup skips the line; "+
					"the relay applies it in each direction where netem shaped only what leaves eth%d: a round trip carries the delay twice",
				n.name, idx, dom, idx)})
		}
	}
	return links
}

// renderLinks writes the impaired links, by collision domain.
func renderLinks(d *doc, links map[string]*domainLink) {
	if len(links) == 0 {
		return
	}
	k := key("links")
	k.HeadComment = comments("Collision domains of two devices that a startup's tc netem line shapes:",
		"point-to-point links that netlab's relay impairs, in each direction.")
	list := set(d.root, k, seq())
	for _, dom := range slices.Sorted(maps.Keys(links)) {
		l := links[dom]
		m := flow()
		ends := set(m, key("endpoints"), flowSeq())
		for _, e := range l.ends {
			push(ends, quoted(fmt.Sprintf("%s:eth%d", nodeName(e.n.name), e.idx)))
		}
		for _, kv := range [][2]string{{"delay", l.im.delay}, {"jitter", l.im.jitter}, {"loss", l.im.loss}, {"rate", l.im.rate}} {
			if kv[1] != "" {
				set(m, key(kv[0]), quoted(kv[1]))
			}
		}
		v := push(list, m)
		v.LineComment = "# Kathará: collision domain " + comment(dom)
	}
}

type endpoint struct {
	n   *katharaNode
	idx int
}

// domainLink is a collision domain of two devices made an impaired link.
type domainLink struct {
	ends [2]endpoint
	im   impairment
}

// merge adds one end's netem line: a value given by both ends is the
// larger one's (the relay applies one value each way).
func (l *domainLink) merge(im impairment) {
	pick := func(have *string, v string) {
		if *have == "" || v != "" && larger(v, *have) {
			*have = v
		}
	}
	pick(&l.im.delay, im.delay)
	pick(&l.im.jitter, im.jitter)
	pick(&l.im.loss, im.loss)
	if im.rate != "" { // rates are not compared: the last line's
		l.im.rate = im.rate
	}
}

// larger compares two values of one kind (durations, or percentages).
func larger(a, b string) bool {
	da, ea := parseAmount(a)
	db, eb := parseAmount(b)
	return ea == nil && eb == nil && da > db
}

func parseAmount(s string) (float64, error) {
	if strings.HasSuffix(s, "%") {
		return strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	}
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.mult, err
		}
	}
	return strconv.ParseFloat(s, 64)
}
