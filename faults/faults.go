// Package faults breaks and mends a running lab on purpose: a link set
// down and up again, a node stopped, started or restarted. What the file
// says is restored by netlab up; these are the run-time changes a teacher
// makes during an exercise.
package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/wire"
)

// Engine is what faults needs of the container engine.
type Engine interface {
	List(ctx context.Context, lab string) ([]engine.Container, error)
	Inspect(ctx context.Context, id string) (engine.Node, error)
	Start(ctx context.Context, id string) (engine.Node, error)
	Stop(ctx context.Context, id string) error
}

var _ Engine = (*engine.Host)(nil)

// ErrUsage marks errors in what was asked (an unknown node or interface).
var ErrUsage = errors.New("usage")

// Find returns the lab's container of node, or a usage error naming the nodes.
func Find(ctx context.Context, e Engine, lab, node string) (engine.Container, error) {
	list, err := e.List(ctx, lab)
	if err != nil {
		return engine.Container{}, err
	}
	if len(list) == 0 {
		return engine.Container{}, fmt.Errorf("%w: no lab %q on this host (netlab ls lists them)", ErrUsage, lab)
	}
	var known []string
	for _, c := range list {
		if c.Node == node {
			return c, nil
		}
		known = append(known, c.Node)
	}
	slices.Sort(known)
	return engine.Container{}, fmt.Errorf("%w: lab %s has no node %q (known: %s)", ErrUsage, lab, node, strings.Join(known, ", "))
}

// LinkResult says what SetLink changed, and where.
type LinkResult struct {
	Where   string `json:"where"` // "host side" (a bridge port: the cable is pulled) or "in the node"
	Changed bool   `json:"changed"`
}

// SetLink sets a node's interface down or up. For an interface on a
// network, the host side of its port goes down, as if its cable were
// pulled: the node sees no carrier and its own settings stay. For a link
// end, the interface goes down in the node, and its peer loses carrier.
func SetLink(ctx context.Context, e Engine, lab, node, iface string, up bool) (LinkResult, error) {
	c, err := Find(ctx, e, lab, node)
	if err != nil {
		return LinkResult{}, err
	}
	if port, err := netlink.LinkByName(naming.Port(lab, node, iface)); err == nil && naming.OwnedBy(port.Attrs().Alias, lab) {
		return LinkResult{Where: "host side"}.set(netlink.LinkSetUp, netlink.LinkSetDown, port, up)
	}
	n, err := e.Inspect(ctx, c.ID)
	if err != nil {
		return LinkResult{}, err
	}
	if a := engine.AgentsOf(e, c.ID); a != nil && n.Remote {
		where, changed, err := a.SetRemoteLink(ctx, c.ID, lab, node, iface, up)
		return LinkResult{Where: where, Changed: changed}, err
	}
	if n.Remote {
		return LinkResult{}, engine.RemoteError(node, "a link fault")
	}
	if n.Pid == 0 {
		return LinkResult{}, fmt.Errorf("node %s is not running: netlab start %s %s", node, lab, node)
	}
	ns, err := wire.OpenNS(n.Pid)
	if err != nil {
		return LinkResult{}, err
	}
	defer ns.Close()
	h := ns.Handle()
	l, err := h.LinkByName(iface)
	if err != nil {
		return LinkResult{}, fmt.Errorf("%w: node %s has no interface %q", ErrUsage, node, iface)
	}
	return LinkResult{Where: "in the node"}.set(h.LinkSetUp, h.LinkSetDown, l, up)
}

func (r LinkResult) set(setUp, setDown func(netlink.Link) error, l netlink.Link, up bool) (LinkResult, error) {
	isUp := l.Attrs().Flags&net.FlagUp != 0
	if isUp == up {
		return r, nil
	}
	set, word := setDown, "down"
	if up {
		set, word = setUp, "up"
	}
	if err := set(l); err != nil {
		return r, fmt.Errorf("set %s %s: %w", l.Attrs().Name, word, err)
	}
	r.Changed = true
	return r, nil
}

// Stop stops a node's container, its cables pulled first: a namespace
// outlives its processes while the kernel tears it down in the background
// (seconds on a busy host), and meanwhile its kernel still answers pings
// and ARP. A powered-off machine answers nothing from the moment it is
// off; and a pod's namespace is its sandbox's, which stays until the pod
// is deleted. Start's up plugs it in again.
func Stop(ctx context.Context, e Engine, lab, node string) error {
	c, err := Find(ctx, e, lab, node)
	if err != nil {
		return err
	}
	n, err := e.Inspect(ctx, c.ID)
	if err != nil {
		return err
	}
	var unplugged error
	if a := engine.AgentsOf(e, c.ID); a != nil && n.Remote {
		unplugged = a.UnplugRemote(ctx, c.ID)
	} else if n.Pid != 0 {
		unplugged = unplug(n.Pid)
	}
	if unplugged != nil {
		return fmt.Errorf("stop %s: pull its cables: %w", node, unplugged)
	}
	return e.Stop(ctx, c.ID)
}

// unplug deletes the interfaces of the node's namespace (pid's) but its
// loopback; a veth's other end, in a bridge or another node, goes too.
func unplug(pid int) error {
	ns, err := wire.OpenNS(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	return wire.Unplug(ns)
}

// Start starts a node's stopped container and returns the lab file it was
// brought up from, so that the caller rewires it (netlab up FILE).
func Start(ctx context.Context, e Engine, lab, node string) (file string, err error) {
	c, err := Find(ctx, e, lab, node)
	if err != nil {
		return "", err
	}
	if _, err := e.Start(ctx, c.ID); err != nil {
		return "", err
	}
	return c.Labels[naming.LabelFile], nil
}
