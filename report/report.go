// Package report renders netlab's results for people: the tables and
// lines the command line prints for a lab's status, an up's changes, a
// down, the labs on this host and the bundled ones, a plan, what this host
// offers (doctor), a prune, a restore, a trust record, a link set down or
// up, an impairment and a reset's stage, and the progress of long
// operations. It decides nothing: each function writes a value that the
// lab, planner or hostcheck package made. JSON is not its business: those
// values are written as they are.
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/steps"
	"github.com/netlab/netlab/table"
	"github.com/netlab/netlab/trust"
)

// Plan writes a plan's summary and a table of its steps, each with what
// it does and what it waits for.
func Plan(w io.Writer, p *planner.Plan) error {
	fmt.Fprintln(w, p.Summary())
	t := table.New(w)
	t.Header("#", "Step", "Action", "After")
	for i, s := range p.Steps {
		deps := "-"
		if len(s.Deps) > 0 {
			deps = strings.Join(s.Deps, "\n")
		}
		t.Append(fmt.Sprint(i+1), s.ID, steps.Describe(s), deps)
	}
	return t.Render()
}

// Up writes the line that ends an up: what it did, or that the lab was
// as its file says.
func Up(w io.Writer, res *lab.UpResult) {
	if res.UpToDate() {
		fmt.Fprintf(w, "lab %s is up to date (%d steps checked in %s)\n", res.Lab, res.Unchanged, res.Took)
	} else {
		fmt.Fprintf(w, "lab %s is up: %d steps done, %d already in place, in %s\n", res.Lab, res.Changed, res.Unchanged, res.Took)
	}
}

// Changes writes what a dry run found that up would create, change and
// remove, and what the lab asks of the host.
func Changes(w io.Writer, res *lab.UpResult) error {
	if len(res.Host) > 0 {
		fmt.Fprintf(w, "lab %s reaches the host (up needs --allow-host, or netlab trust FILE, unless it is bundled):\n", res.Lab)
		for _, r := range res.Host {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if len(res.Changes) == 0 {
		fmt.Fprintf(w, "lab %s matches its file: up would change nothing\n", res.Lab)
		return nil
	}
	fmt.Fprintf(w, "lab %s: netlab up would\n", res.Lab)
	t := table.New(w)
	t.Header("Action", "What", "Name", "Detail")
	for _, c := range res.Changes {
		t.Append(string(c.Action), c.What(), c.Name, c.Detail)
	}
	return t.Render()
}

// Down writes what a down of the lab removed.
func Down(w io.Writer, name string, r lab.DownResult) {
	if r.Nothing() {
		fmt.Fprintf(w, "lab %s: nothing to remove\n", name)
		return
	}
	roots := ""
	if r.ImageRoots > 0 {
		roots = ", " + planner.Plural(r.ImageRoots, "unpacked image") + " (down --keep-cache keeps them)"
	}
	fmt.Fprintf(w, "lab %s removed: %s, %s, %s%s in %s\n", name, planner.Plural(r.Containers, "container"),
		planner.Plural(r.Interfaces, "host interface"), planner.Plural(r.FirewallRules, "firewall rule"), roots, r.Took)
}

// List writes the labs on this host, with the file each came from.
func List(w io.Writer, labs []lab.Summary) error {
	t := table.New(w)
	t.Header("Lab", "Nodes", "Running", "File")
	for _, l := range labs {
		t.Append(l.Lab, fmt.Sprint(l.Nodes), fmt.Sprint(l.Running), l.File)
	}
	return t.Render()
}

// Bundled writes the bundled labs: what each teaches, its nodes, and its
// images, built or missing when that was looked at.
func Bundled(w io.Writer, labs []lab.Bundled) error {
	t := table.New(w)
	t.Header("Lab", "What it teaches", "Nodes", "Images")
	for _, b := range labs {
		var images []string
		for _, image := range slices.Sorted(maps.Keys(b.Images)) {
			mark := ""
			switch {
			case !b.Checked:
			case b.Images[image]:
				mark = " (built)"
			default:
				mark = " (missing)"
			}
			images = append(images, image+mark)
		}
		t.Append(b.Name, Wrap(b.About, 60), fmt.Sprint(b.Nodes), strings.Join(images, "\n"))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "bring one up: netlab up NAME    build missing images: make images")
	return nil
}

// Impaired writes a link's impairments, as impair set them.
func Impaired(w io.Writer, l *spec.Link) {
	if l.Impair.IsZero() {
		fmt.Fprintf(w, "%s <-> %s: a plain link again\n", l.Endpoints[0], l.Endpoints[1])
		return
	}
	var parts []string
	for _, p := range [][2]string{{"delay", l.Delay}, {"jitter", l.Jitter}, {"loss", l.Loss}, {"rate", l.Rate}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	fmt.Fprintf(w, "%s <-> %s: %s (each way, through netlab's relay)\n", l.Endpoints[0], l.Endpoints[1], strings.Join(parts, ", "))
}

// Wrap breaks text into lines of at most width runes, at spaces.
func Wrap(text string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// Trusted writes what netlab trust recorded for a lab file: what it asks
// of the host, allowed until the file changes (digest is its hash).
func Trusted(w io.Writer, file string, reqs []trust.Request, digest string) {
	if len(reqs) == 0 {
		fmt.Fprintf(w, "%s asks nothing of the host beyond its nodes: netlab up needs no allowance for it\n", file)
		return
	}
	fmt.Fprintf(w, "trusted %s (sha256 %s) with what it asks of the host:\n", file, digest[:12])
	for _, r := range reqs {
		fmt.Fprintf(w, "  %s\n", r)
	}
}

// Link writes a node's interface set up or down, and where that happened.
func Link(w io.Writer, node, iface string, up bool, r lab.LinkResult) {
	state := map[bool]string{true: "up", false: "down"}[up]
	if !r.Changed {
		fmt.Fprintf(w, "%s:%s is %s already (%s)\n", node, iface, state, r.Where)
		return
	}
	fmt.Fprintf(w, "%s:%s %s (%s)\n", node, iface, state, r.Where)
}

// Stage writes where a reset to the start of a stage left the lab, and
// how to check the stage.
func Stage(w io.Writer, l *spec.Lab, stage string) {
	title := ""
	if s := l.Upto(stage); len(s) > 0 && s[len(s)-1].Title != "" {
		title = ": " + s[len(s)-1].Title
	}
	fmt.Fprintf(w, "lab %s is at the start of stage %s%s; netlab check %s --stage %s\n", l.Name, stage, title, l.Name, stage)
}
