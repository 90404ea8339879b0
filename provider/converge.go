package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/internal/nldump"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Existing lists every container on the host, of any lab or none, with
// its name and labels: what up checks its container names against.
func (d *Docker) Existing(ctx context.Context) ([]converge.Existing, error) {
	list, err := d.c.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []converge.Existing
	for _, c := range list {
		for _, name := range c.Names {
			out = append(out, converge.Existing{Name: strings.TrimPrefix(name, "/"), Labels: c.Labels})
		}
	}
	return out, nil
}

// Observe reads what runs of the lab: its containers (with their recorded
// configuration and, when they run, their interfaces and addresses), its
// host interfaces and its helper processes' pid files.
func Observe(ctx context.Context, d Runtime, lab string) (converge.Observed, error) {
	o := converge.Observed{Nodes: map[string]converge.Node{}}
	list, err := d.List(ctx, lab)
	if err != nil {
		return o, err
	}
	for _, c := range list {
		n := converge.Node{Container: c.Name, Image: c.Image, Running: c.State == "running", Config: converge.ParseConfig(c.Labels[naming.LabelConfig]),
			InitGone: initGone(c.Labels)}
		if n.Running {
			info, err := d.Inspect(ctx, c.ID)
			if err != nil {
				return o, err
			}
			if info.Pid == 0 { // stopped since it was listed
				n.Running = false
			} else if err = observeNode(info.Pid, &n); err != nil {
				return o, fmt.Errorf("node %s: %w", c.Node, err)
			}
		}
		o.Nodes[c.Node] = n
	}
	links, err := HostLinks(lab)
	if err != nil {
		return o, err
	}
	for _, l := range links {
		o.HostLinks = append(o.HostLinks, converge.HostLink{Name: l.Attrs().Name, Alias: l.Attrs().Alias, Bridge: l.Type() == "bridge"})
	}
	files, _ := filepath.Glob(filepath.Join(RunDir, lab, "*.pid"))
	for _, f := range files {
		if filepath.Base(f) == naming.WatcherPid {
			continue // the lab's watcher is no step of the plan
		}
		o.Helpers = append(o.Helpers, filepath.Base(f))
	}
	return o, nil
}

// observeNode reads, in the namespace of pid, the interfaces (but lo)
// with their addresses, those of them made from outside the namespace,
// and the routes netlab put there.
func observeNode(pid int, n *converge.Node) error {
	ns, err := OpenNS(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	links, err := nldump.Retry(ns.h.LinkList)
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	n.Interfaces = map[string][]converge.Addr{}
	n.Links = map[string]converge.Link{}
	names := map[int]string{}
	for _, l := range links {
		name := l.Attrs().Name
		names[l.Attrs().Index] = name
		if name == "lo" {
			continue
		}
		if madeOutside(l) {
			n.Outside = append(n.Outside, name)
		}
		addrs, err := ns.h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list addresses of %s: %w", name, err)
		}
		n.Interfaces[name] = []converge.Addr{}
		n.Links[name] = converge.Link{MAC: l.Attrs().HardwareAddr.String(), MTU: l.Attrs().MTU}
		for _, x := range addrs {
			if p, ok := prefixOf(x.IPNet); ok {
				dynamic := x.ValidLft > 0 && uint32(x.ValidLft) != 0xffffffff
				n.Interfaces[name] = append(n.Interfaces[name], converge.Addr{Prefix: p, Dynamic: dynamic})
			}
		}
	}
	routes, err := staticRoutes(ns)
	if err != nil {
		return err
	}
	for _, r := range routes {
		n.Routes = append(n.Routes, kernelRoute(r, names))
	}
	return nil
}

// staticRoutes lists the routes netlab put in a node: protocol "static"
// in the main table (see EnsureRoute).
func staticRoutes(ns *NS) ([]netlink.Route, error) {
	routes, err := nldump.Retry(func() ([]netlink.Route, error) {
		return ns.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_STATIC},
			netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return routes, nil
}

// madeOutside tells whether an interface was made from outside the
// namespace that holds it: a veth whose peer, or a macvlan or VLAN
// interface whose parent, is in another namespace (the kernel then gives
// the other namespace's id).
func madeOutside(l netlink.Link) bool {
	switch l.Type() {
	case "veth", "macvlan", "macvtap", "vlan":
		return l.Attrs().NetNsID >= 0
	}
	return false
}

// kernelRoute is a kernel route as the plan writes routes.
func kernelRoute(r netlink.Route, names map[int]string) planner.Route {
	out := planner.Route{Dst: routeDst(r), Dev: names[r.LinkIndex]}
	if gw, ok := netip.AddrFromSlice(r.Gw); ok {
		out.Via = gw.Unmap()
	}
	return out
}

// Remove carries out the removals among the changes (as converge.Diff
// lists them), before the plan runs: helper processes, containers of
// nodes removed or to be made again (their namespaces, and with them
// their veths, go too), addresses, host interfaces, and bridges with
// their host firewall rules. It returns the changes it carried out.
func Remove(ctx context.Context, d Runtime, lab string, changes []converge.Change) ([]converge.Change, error) {
	var done []converge.Change
	var errs []error
	list, err := d.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, c := range list {
		ids[c.Node] = c.ID
	}
	links, err := HostLinks(lab)
	if err != nil {
		return nil, err
	}
	byName := map[string]netlink.Link{}
	for _, l := range links {
		byName[l.Attrs().Name] = l
	}
	// Helpers, then containers, then addresses, then host interfaces,
	// ports before bridges: the order of converge.Diff.
	ordered := append([]converge.Change{}, changes...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return ordered[i].Object != converge.ObjNetwork && ordered[j].Object == converge.ObjNetwork
	})
	for _, c := range ordered {
		if !c.Removal() {
			continue
		}
		var err error
		switch c.Object {
		case converge.ObjHelper:
			f := filepath.Join(RunDir, lab, c.Name)
			if pid, ok := runningPid(f); ok {
				err = stopPid(pid, f)
			}
			if err == nil {
				os.Remove(f)
			}
		case converge.ObjNode:
			if id := ids[c.Node]; id != "" {
				err = d.Remove(ctx, id)
			}
			if err == nil {
				err = removeNodeLinks(lab, c.Node, links)
			}
			if err == nil && c.Action == converge.Remove {
				err = os.RemoveAll(filepath.Join(RunDir, lab, c.Node))
			}
		case converge.ObjAddress:
			err = removeAddr(ctx, d, ids[c.Node], c)
		case converge.ObjInterface, converge.ObjRoute:
			err = removeInNode(ctx, d, ids[c.Node], c)
		case converge.ObjHostLink, converge.ObjNetwork:
			if l := byName[c.Name]; l != nil {
				if err = netlink.LinkDel(l); err != nil && isNotFound(err) {
					err = nil
				}
			}
			if err == nil && c.Object == converge.ObjNetwork {
				err = removeHostForwardRule(naming.FirewallComment(lab, c.Network))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.What(), err))
			continue
		}
		done = append(done, c)
	}
	return done, errors.Join(errs...)
}

// removeNodeLinks deletes the node's host interfaces (bridge ports, relay
// ends) that outlived its container.
func removeNodeLinks(lab, node string, links []netlink.Link) error {
	for _, l := range links {
		alias := l.Attrs().Alias
		if !strings.HasPrefix(alias, naming.AliasPrefix+lab+":port:"+node+":") && !strings.HasPrefix(alias, naming.AliasPrefix+lab+":relay:"+node+":") {
			continue
		}
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s (%s): %w", l.Attrs().Name, alias, err)
		}
	}
	return nil
}

// runningNS opens the network namespace of a node's container; nil (and
// no error) when there is none or it does not run: nothing to remove then.
func runningNS(ctx context.Context, d Runtime, id string) (*NS, error) {
	if id == "" {
		return nil, nil
	}
	n, err := d.Inspect(ctx, id)
	if err != nil || n.Pid == 0 {
		return nil, err
	}
	return OpenNS(n.Pid)
}

// removeAddr deletes an address from a node's interface.
func removeAddr(ctx context.Context, d Runtime, id string, c converge.Change) error {
	ns, err := runningNS(ctx, d, id)
	if ns == nil {
		return err
	}
	defer ns.Close()
	l, err := ns.h.LinkByName(c.Iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", c.Iface, err)
	}
	addr, err := netlink.ParseAddr(c.Name)
	if err != nil {
		return err
	}
	if err := ns.h.AddrDel(l, addr); err != nil && !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "cannot assign") {
		return err
	}
	return nil
}

// removeInNode deletes an interface or a route (as converge.Diff names
// them) from a node; already gone is success: a veth's peer goes with it.
func removeInNode(ctx context.Context, d Runtime, id string, c converge.Change) error {
	ns, err := runningNS(ctx, d, id)
	if ns == nil {
		return err
	}
	defer ns.Close()
	links, err := nldump.Retry(ns.h.LinkList)
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
		if c.Object == converge.ObjInterface && l.Attrs().Name == c.Iface {
			if err := ns.h.LinkDel(l); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	if c.Object != converge.ObjRoute {
		return nil
	}
	routes, err := staticRoutes(ns)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if kernelRoute(r, names).String() == c.Name {
			if err := ns.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
		}
	}
	return nil
}

// removeHostForwardRule deletes the host firewall rules with the comment.
func removeHostForwardRule(comment string) error {
	for _, tool := range firewallTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		list, err := exec.Command(tool, "-w", "-S", "FORWARD").Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(list), "\n") {
			args := strings.Fields(line)
			if len(args) < 2 || args[0] != "-A" {
				continue
			}
			for i := range args {
				args[i] = strings.Trim(args[i], `"`)
			}
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--comment" && args[i+1] == comment {
					if out, err := exec.Command(tool, append([]string{"-w", "-D"}, args[1:]...)...).CombinedOutput(); err != nil {
						return fmt.Errorf("%s: remove rule %s: %v: %s", tool, comment, err, bytes.TrimSpace(out))
					}
					break
				}
			}
		}
	}
	return nil
}
