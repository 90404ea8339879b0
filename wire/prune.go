package wire

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/planner"
)

// PruneRoutes deletes the routes of the namespace's main table that
// someone added by hand and the plan does not have: those of protocol
// boot (what ip route add makes), static or unspecified, whose destination
// and next hop match no route in keep. It leaves alone the routes the
// kernel makes for addresses (proto kernel), those of router
// advertisements and DHCP (proto ra, dhcp, and the IPv4 default route
// netlab's DHCP client adds on an interface of dhcp), and the routing
// daemons' (zebra, ospf, rip, bgp…). It returns what it deleted, as ip
// route prints it.
func PruneRoutes(ns *NS, keep []planner.Route, dhcpIfaces []string) ([]string, error) {
	list, err := ns.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var removed []string
	for _, r := range list {
		if r.Type != unix.RTN_UNICAST && r.Type != unix.RTN_BLACKHOLE && r.Type != unix.RTN_UNREACHABLE && r.Type != unix.RTN_PROHIBIT {
			continue
		}
		switch r.Protocol {
		case unix.RTPROT_UNSPEC, unix.RTPROT_BOOT, unix.RTPROT_STATIC:
		default:
			continue
		}
		dst := routeDst(r)
		dev := ""
		if r.LinkIndex > 0 {
			if l, err := ns.h.LinkByIndex(r.LinkIndex); err == nil {
				dev = l.Attrs().Name
			}
		}
		gw, _ := netip.AddrFromSlice(r.Gw)
		gw = gw.Unmap()
		if planned(keep, dst, gw, dev) {
			continue
		}
		if dst.Bits() == 0 && dst.Addr().Is4() && slices.Contains(dhcpIfaces, dev) {
			continue // the lease's default route
		}
		desc := describeKernelRoute(r.Type, dst, gw, dev)
		if err := ns.h.RouteDel(&r); err != nil {
			return removed, fmt.Errorf("delete route %s: %w", desc, err)
		}
		removed = append(removed, desc)
	}
	return removed, nil
}

// routeDst is a kernel route's destination; the default route has none.
func routeDst(r netlink.Route) netip.Prefix {
	if p, ok := prefixOf(r.Dst); ok {
		return p
	}
	if r.Family == netlink.FAMILY_V6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// planned says whether a route of the plan has this destination, next hop
// and (when the plan names one) device.
func planned(keep []planner.Route, dst netip.Prefix, gw netip.Addr, dev string) bool {
	for _, k := range keep {
		if k.Dst == dst && k.Via == gw && (k.Dev == "" || k.Dev == dev) {
			return true
		}
	}
	return false
}

func describeKernelRoute(typ int, dst netip.Prefix, gw netip.Addr, dev string) string {
	s := dst.String()
	switch {
	case dst.Bits() == 0:
		s = "default"
		if dst.Addr().Is6() {
			s = "default (IPv6)"
		}
	}
	switch typ {
	case unix.RTN_BLACKHOLE:
		s = "blackhole " + s
	case unix.RTN_UNREACHABLE:
		s = "unreachable " + s
	case unix.RTN_PROHIBIT:
		s = "prohibit " + s
	}
	if gw.IsValid() {
		s += " via " + gw.String()
	}
	if dev != "" {
		s += " dev " + dev
	}
	return s
}

// PruneAddrs deletes the addresses of the interfaces in keep that the plan
// does not give them: what someone added by hand. It leaves alone IPv6
// link-local addresses and every address with a lifetime (a DHCP lease,
// SLAAC's), and interfaces the plan does not name. It returns what it
// deleted, as "ADDR/LEN dev IF".
func PruneAddrs(ns *NS, keep []planner.Addr) ([]string, error) {
	var removed []string
	for _, a := range keep {
		l, err := ns.h.LinkByName(a.Iface)
		if err != nil {
			continue // not there: up reported it
		}
		list, err := ns.h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return removed, fmt.Errorf("list addresses of %s: %w", a.Iface, err)
		}
		for _, x := range list {
			p, ok := prefixOf(x.IPNet)
			if !ok || slices.Contains(a.Addrs, p) || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			if x.Flags&unix.IFA_F_PERMANENT == 0 || x.Flags&unix.IFA_F_MANAGETEMPADDR != 0 {
				continue // a lease's, SLAAC's: the kernel or a client keeps it
			}
			desc := p.String() + " dev " + a.Iface
			if err := ns.h.AddrDel(l, &x); err != nil {
				return removed, fmt.Errorf("delete address %s: %w", desc, err)
			}
			removed = append(removed, desc)
		}
	}
	return removed, nil
}
