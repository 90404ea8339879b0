package lookingglass

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Exec runs a command in a node with sh -c: its output and exit status.
type Exec func(ctx context.Context, node, cmd string) ([]byte, int, error)

// TableCommand prints the router's whole BGP table as JSON.
const TableCommand = "vtysh -c 'show bgp ipv4 unicast json'"

// RoutesCommand prints the router's IPv4 routes as JSON.
const RoutesCommand = "vtysh -c 'show ip route json'"

// PrefixCommand prints the BGP paths to prefix (an address or a prefix,
// already checked to be one) as JSON.
func PrefixCommand(prefix string) string {
	return "vtysh -c 'show bgp ipv4 unicast " + prefix + " json'"
}

// RoutePrefixCommand prints the routes to prefix as JSON.
func RoutePrefixCommand(prefix string) string {
	return "vtysh -c 'show ip route " + prefix + " json'"
}

// Glass is what a looking glass shows of one router.
type Glass struct {
	Router string  `json:"router"`
	Prefix string  `json:"prefix,omitempty"` // the prefix asked about; "" for all
	BGP    []Path  `json:"bgp"`
	Routes []Route `json:"routes"`
}

// CheckPrefix says whether s is an IPv4 address or prefix, the only kind
// a looking glass passes to vtysh.
func CheckPrefix(s string) error {
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return nil
	}
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
		return nil
	}
	return fmt.Errorf("%q is not an IPv4 address or prefix like 1.0.0.0/8", s)
}

// Look reads the router's BGP paths and routes (to prefix, or all of them).
func Look(ctx context.Context, exec Exec, router, prefix string) (*Glass, error) {
	bgpCmd, ribCmd := TableCommand, RoutesCommand
	if prefix != "" {
		if err := CheckPrefix(prefix); err != nil {
			return nil, err
		}
		bgpCmd, ribCmd = PrefixCommand(prefix), RoutePrefixCommand(prefix)
	}
	bgp, err := run(ctx, exec, router, bgpCmd)
	if err != nil {
		return nil, err
	}
	rib, err := run(ctx, exec, router, ribCmd)
	if err != nil {
		return nil, err
	}
	g := &Glass{Router: router, Prefix: prefix}
	if prefix != "" {
		g.BGP, err = ParsePrefix(bgp)
	} else {
		g.BGP, err = ParseTable(bgp)
	}
	if err != nil {
		return nil, fmt.Errorf("router %s: %w", router, err)
	}
	if g.Routes, err = ParseRoutes(rib); err != nil {
		return nil, fmt.Errorf("router %s: %w", router, err)
	}
	return g, nil
}

func run(ctx context.Context, exec Exec, router, cmd string) ([]byte, error) {
	out, code, err := exec(ctx, router, cmd)
	switch {
	case err != nil:
		return nil, fmt.Errorf("run %s on %s: %w", cmd, router, err)
	case code == 127:
		return nil, fmt.Errorf("node %s has no vtysh: a looking glass reads FRR routers (image netlab/router)", router)
	case code != 0 || strings.Contains(string(out), "is not running"):
		return nil, fmt.Errorf("%s on %s: exit %d: %s (is FRR's bgpd running there? it may still be starting)", cmd, router, code, FirstLine(out))
	}
	return out, nil
}
