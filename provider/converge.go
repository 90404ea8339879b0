// Package provider carries out a lab's life on this host by calling the
// packages that do each part: engine (the nodes' runtimes), wire (netlink
// and nftables) and hostproc (the helper processes). It holds what ties
// them together for now: Observe and Remove for up's convergence, Down,
// Status, and the lab's watcher. The steps of a plan are carried out by
// package steps, where each kind of step lives.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/wire"
)

// Observe reads what runs of the lab: its containers (with their recorded
// configuration and, when they run, their interfaces and addresses), its
// host interfaces and its helper processes' pid files.
func Observe(ctx context.Context, d engine.Runtime, lab string) (converge.Observed, error) {
	o := converge.Observed{Nodes: map[string]converge.Node{}}
	list, err := d.List(ctx, lab)
	if err != nil {
		return o, err
	}
	for _, c := range list {
		n := converge.Node{Container: c.Name, Image: c.Image, Running: c.State == "running", Config: converge.ParseConfig(c.Labels[naming.LabelConfig]),
			InitGone: engine.InitGone(c.Labels)}
		if n.Running {
			info, err := d.Inspect(ctx, c.ID)
			if err != nil {
				return o, err
			}
			if info.Remote { // its host's agent wires it: its interfaces are not read here
			} else if info.Pid == 0 { // stopped since it was listed
				n.Running = false
			} else if err = wire.ObserveNode(info.Pid, &n); err != nil {
				return o, fmt.Errorf("node %s: %w", c.Node, err)
			}
		}
		o.Nodes[c.Node] = n
	}
	links, err := wire.HostLinks(lab)
	if err != nil {
		return o, err
	}
	for _, l := range links {
		o.HostLinks = append(o.HostLinks, converge.HostLink{Name: l.Attrs().Name, Alias: l.Attrs().Alias, Bridge: l.Type() == "bridge"})
	}
	files, _ := filepath.Glob(filepath.Join(engine.RunDir, lab, "*.pid"))
	for _, f := range files {
		if filepath.Base(f) == naming.WatcherPid {
			continue // the lab's watcher is no step of the plan
		}
		o.Helpers = append(o.Helpers, filepath.Base(f))
	}
	return o, nil
}

// Remove carries out the removals among the changes (as converge.Diff
// lists them), before the plan runs: helper processes, containers of
// nodes removed or to be made again (their namespaces, and with them
// their veths, go too), addresses, host interfaces, and bridges with
// their host firewall rules. It returns the changes it carried out.
// Without a removal among the changes it reads nothing: a first up's
// listing of the host's every interface (hundreds with a class's labs
// up) and of the lab's containers found nothing to remove.
func Remove(ctx context.Context, d engine.Runtime, lab string, changes []converge.Change) ([]converge.Change, error) {
	if !slices.ContainsFunc(changes, converge.Change.Removal) {
		return nil, nil
	}
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
	links, err := wire.HostLinks(lab)
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
			f := filepath.Join(engine.RunDir, lab, c.Name)
			if pid, ok := hostproc.Running(f); ok {
				err = hostproc.Stop(pid, f)
			}
			if err == nil {
				os.Remove(f)
			}
		case converge.ObjNode:
			if id := ids[c.Node]; id != "" {
				err = d.Remove(ctx, id)
			}
			if err == nil {
				err = wire.RemoveNodeLinks(lab, c.Node, links)
			}
			if err == nil && c.Action == converge.Remove {
				err = os.RemoveAll(filepath.Join(engine.RunDir, lab, c.Node))
			}
		case converge.ObjAddress, converge.ObjInterface, converge.ObjRoute:
			err = removeInNode(ctx, d, ids[c.Node], c)
		case converge.ObjHostLink, converge.ObjNetwork:
			if l := byName[c.Name]; l != nil {
				err = wire.RemoveHostLink(l)
			}
			if err == nil && c.Object == converge.ObjHostLink {
				_, err = wire.RemoveGuardHostLink(lab, c.Name)
			}
			if err == nil && c.Object == converge.ObjNetwork {
				err = wire.RemoveHostForwardRule(naming.FirewallComment(lab, c.Network))
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

// runningNS opens the network namespace of a node's container; nil (and
// no error) when there is none or it does not run: nothing to remove then.
func runningNS(ctx context.Context, d engine.Runtime, id string) (*wire.NS, error) {
	if id == "" {
		return nil, nil
	}
	n, err := d.Inspect(ctx, id)
	if err != nil || n.Pid == 0 {
		return nil, err
	}
	return wire.OpenNS(n.Pid)
}

// removeInNode deletes an address, an interface or a route (as
// converge.Diff names them) from a node, if it runs.
func removeInNode(ctx context.Context, d engine.Runtime, id string, c converge.Change) error {
	ns, err := runningNS(ctx, d, id)
	if ns == nil {
		return err
	}
	defer ns.Close()
	if c.Object == converge.ObjAddress {
		return wire.RemoveAddr(ns, c)
	}
	return wire.RemoveInNode(ns, c)
}
