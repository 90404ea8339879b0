package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/table"
)

// Status writes a lab's watcher and a table of its nodes: state,
// interfaces, gateways and published ports.
func Status(w io.Writer, st *lab.Status) error {
	fmt.Fprintf(w, "lab %s\n", st.Lab)
	if st.WatcherPid != 0 {
		fmt.Fprintf(w, "watcher: running (pid %d), rewires restarted nodes; log %s\n", st.WatcherPid, st.WatcherLog)
	} else if len(st.Nodes) > 0 {
		fmt.Fprintf(w, "watcher: not running: a restarted node stays unwired until netlab up\n")
	}
	t := table.New(w)
	t.Header("Node", "State", "Interfaces", "Gateway", "Published")
	for _, n := range st.Nodes {
		state := n.State
		if n.State == "running" && !n.Ready {
			state += " (not wired)"
		}
		var ifs []string
		for _, i := range n.Interfaces {
			ifs = append(ifs, Interface(i))
		}
		t.Append(n.Node, state, strings.Join(ifs, "\n"), strings.Join(n.Gateways, "\n"), strings.Join(n.Published, "\n"))
	}
	return t.Render()
}

// Interface is an interface as status shows it: its name, addresses and
// whatever is wrong with it.
func Interface(i lab.IfaceState) string {
	addrs := make([]string, len(i.Addrs))
	for k, a := range i.Addrs {
		addrs[k] = a
		if slices.Contains(i.DHCP, a) {
			addrs[k] += " (dhcp)"
		}
	}
	line := i.Name + " " + strings.Join(addrs, " ")
	switch {
	case i.Missing:
		line = i.Name + " (missing: deleted in the node or on the host; netlab up remakes it)"
	case !i.Up:
		line += " (down)"
	case !i.Carrier:
		line += " (no carrier: the other end or the host side is down)"
	}
	if i.Impair != "" {
		line += " (impaired: " + i.Impair + ")"
	}
	if i.HostSide != "" {
		line += " (" + i.HostSide + ": netlab up repairs it)"
	}
	return line
}

// Statuses writes the status of each lab, or that there is none.
func Statuses(w io.Writer, states []*lab.Status) error {
	if len(states) == 0 {
		fmt.Fprintln(w, "no labs on this host")
	}
	for _, st := range states {
		if err := Status(w, st); err != nil {
			return err
		}
	}
	return nil
}
