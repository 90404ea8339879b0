package kube

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/wire"
)

// PodIface is the name the pod network's interface takes in a node. The
// container runtime's CNI call names it eth0, the name a lab's own first
// interface usually has; netlab's link step would otherwise take the pod's
// interface for the lab's.
const PodIface = "pod0"

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
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring the pod's %s up (pid %d): %w", PodIface, pid, err)
	}
	// Routes with a gateway after those without, which they go through.
	for _, direct := range []bool{true, false} {
		for _, r := range routes {
			if (r.Gw == nil) != direct || r.Protocol == syscall.RTPROT_KERNEL {
				continue
			}
			r.LinkIndex = l.Attrs().Index
			if err := h.RouteAdd(&r); err != nil && !errors.Is(err, syscall.EEXIST) {
				return fmt.Errorf("route %s back on the pod's %s (pid %d): %w", r.Dst, PodIface, pid, err)
			}
		}
	}
	return nil
}

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
