package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/wire"
)

var _ engine.Placed = (*Runtime)(nil)

// Place is the pod's host and its address on the pod network, over which
// a link to a pod on another host is a VXLAN tunnel.
func (r *Runtime) Place(ctx context.Context, id string) (engine.Place, error) {
	pod, err := r.pod(ctx, id)
	if err != nil {
		return engine.Place{}, err
	}
	return placeOf(id, pod)
}

// placeOf is where pod runs: a pod that carries its own agent is a host
// of its own (agentHost).
func placeOf(id string, pod *corev1.Pod) (engine.Place, error) {
	addr, err := netip.ParseAddr(pod.Status.PodIP)
	if pod.Spec.NodeName == "" || err != nil {
		return engine.Place{}, fmt.Errorf("pod %s: not placed on a host with an address yet (host %q, address %q)", id, pod.Spec.NodeName, pod.Status.PodIP)
	}
	return engine.Place{Host: agentHost(pod), Addr: addr, Iface: PodIface}, nil
}

// PodIface is the name the pod network's interface takes in a node. The
// container runtime's CNI call names it eth0, the name a lab's own first
// interface usually has; netlab's link step would otherwise take the pod's
// interface for the lab's.
const PodIface = naming.PodIface

// cniIface is the name CRI runtimes give the pod network's interface.
const cniIface = "eth0"

// movePodIface renames the pod network's interface in the network
// namespace of process pid from eth0 to PodIface, and puts back the routes
// through it that taking it down removed. The interface is the pod's when
// it holds the pod's address podIP. Nothing to do when PodIface is there
// already or eth0 is not the pod's (a lab's eth0, made after the rename).
func movePodIface(pid int, podIP string) error {
	ns, err := wire.OpenNS(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	h := ns.Handle()
	if l, err := wire.LinkByName(h, PodIface); err != nil || l != nil {
		return err
	}
	l, err := wire.LinkByName(h, cniIface)
	if err != nil || l == nil {
		return err
	}
	if !holds(h, l, net.ParseIP(podIP)) {
		return nil
	}
	routes, err := h.RouteList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("routes of the pod's %s (pid %d): %w", cniIface, pid, err)
	}
	if err := h.LinkSetDown(l); err != nil {
		return fmt.Errorf("take the pod's %s down (pid %d): %w", cniIface, pid, err)
	}
	if err := h.LinkSetName(l, PodIface); err != nil {
		return fmt.Errorf("rename the pod's %s to %s (pid %d): %w", cniIface, PodIface, pid, err)
	}
	if err := h.LinkSetAlias(l, naming.RuntimeIfaceAlias); err != nil { // not the lab's: up leaves it
		return fmt.Errorf("mark the pod's %s as the runtime's (pid %d): %w", PodIface, pid, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring the pod's %s up (pid %d): %w", PodIface, pid, err)
	}
	// Routes with a gateway after those without, which they go through;
	// those with a gateway (the pod network's default route) in a table
	// of their own, for packets from the pod's address only: a lab's own
	// default route takes the main table's place, and the node's tunnels
	// to pods on other hosts still go out on the pod network.
	for _, direct := range []bool{true, false} {
		for _, r := range routes {
			if (r.Gw == nil) != direct || r.Protocol == syscall.RTPROT_KERNEL {
				continue
			}
			r.LinkIndex = l.Attrs().Index
			if !direct {
				r.Table = PodTable
			}
			if err := h.RouteAdd(&r); err != nil && !errors.Is(err, syscall.EEXIST) {
				return fmt.Errorf("route %s back on the pod's %s (pid %d): %w", r.Dst, PodIface, pid, err)
			}
		}
	}
	ip, err := netip.ParseAddr(podIP)
	if err != nil {
		return fmt.Errorf("the pod's address (pid %d): %w", pid, err)
	}
	rule := netlink.NewRule()
	rule.Src = &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(ip.BitLen(), ip.BitLen())}
	rule.Table, rule.Priority = PodTable, PodTable
	if err := h.RuleAdd(rule); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("route the pod's address %s by table %d (pid %d): %w", podIP, PodTable, pid, err)
	}
	return nil
}

// PodTable is the routing table (and the priority of the rule that
// chooses it for packets from the pod's address) that holds the pod
// network's routes through a gateway: `ip route` in a node shows the lab's
// routes only, and `ip rule` this one rule more.
const PodTable = 4789

// holds tells whether link l has address ip.
func holds(h *netlink.Handle, l netlink.Link, ip net.IP) bool {
	if ip == nil {
		return false
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return true
		}
	}
	return false
}
