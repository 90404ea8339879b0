// Package lookingglass reads a router's BGP table and routes, the way a
// looking glass shows them: it runs FRR's vtysh with JSON output in the
// node and parses what FRR prints (show bgp ipv4 unicast [PREFIX] json,
// show ip route [PREFIX] json) into plain values, which the connectivity
// matrix and netlab lg use.
package lookingglass

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Path is one BGP path to a prefix, as the router holds it.
type Path struct {
	Prefix      string   `json:"prefix"`
	Best        bool     `json:"best"`
	Valid       bool     `json:"valid"`
	ASPath      []int    `json:"as_path"` // the ASes, the neighbor's first and the origin's last; empty for the router's own AS
	NextHop     string   `json:"next_hop,omitempty"`
	Peer        string   `json:"peer,omitempty"` // the neighbor it came from; "" for the router's own routes
	External    bool     `json:"external"`       // learned over eBGP
	LocalPref   int      `json:"local_pref,omitempty"`
	Origin      string   `json:"origin,omitempty"`
	Communities []string `json:"communities,omitempty"`
}

// Route is one route of the router's routing table (zebra's RIB).
type Route struct {
	Prefix    string   `json:"prefix"`
	Protocol  string   `json:"protocol"` // connected, ospf, bgp, static, kernel ...
	Selected  bool     `json:"selected"`
	Installed bool     `json:"installed"`
	Distance  int      `json:"distance"`
	Metric    int      `json:"metric"`
	NextHops  []string `json:"next_hops"` // an address, or "directly connected, IFACE"
}

// ParseTable parses show bgp ipv4 unicast json: every path of every
// prefix, sorted by prefix, the best path of each first.
func ParseTable(data []byte) ([]Path, error) {
	var t struct {
		Routes map[string][]struct {
			Valid    bool   `json:"valid"`
			Best     bool   `json:"bestpath"`
			PathFrom string `json:"pathFrom"`
			LocPrf   *int   `json:"locPrf"`
			PeerID   string `json:"peerId"`
			Path     string `json:"path"`
			Origin   string `json:"origin"`
			NextHops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"routes"`
	}
	if err := decode(data, &t); err != nil {
		return nil, fmt.Errorf("read FRR's BGP table: %w", err)
	}
	var out []Path
	for prefix, paths := range t.Routes {
		for _, p := range paths {
			asPath, err := parseASPath(p.Path)
			if err != nil {
				return nil, fmt.Errorf("read FRR's BGP table: prefix %s: %w", prefix, err)
			}
			q := Path{Prefix: prefix, Best: p.Best, Valid: p.Valid, ASPath: asPath, Peer: peer(p.PeerID),
				External: p.PathFrom == "external" && peer(p.PeerID) != "", Origin: p.Origin}
			if p.LocPrf != nil {
				q.LocalPref = *p.LocPrf
			}
			if len(p.NextHops) > 0 {
				q.NextHop = p.NextHops[0].IP
			}
			out = append(out, q)
		}
	}
	sortPaths(out)
	return out, nil
}

// ParsePrefix parses show bgp ipv4 unicast PREFIX json: the paths to the
// prefix that holds PREFIX (an address matches its longest prefix), best
// first. No paths (FRR prints {} or a warning) is not an error.
func ParsePrefix(data []byte) ([]Path, error) {
	if !isJSON(data) {
		return nil, nil // "% Network not in table"
	}
	var r struct {
		Prefix string `json:"prefix"`
		Paths  []struct {
			ASPath struct {
				Segments []struct {
					Type string `json:"type"`
					List []int  `json:"list"`
				} `json:"segments"`
			} `json:"aspath"`
			Origin   string `json:"origin"`
			Valid    bool   `json:"valid"`
			LocPrf   *int   `json:"locPrf"`
			BestPath *struct {
				Overall bool `json:"overall"`
			} `json:"bestpath"`
			Community *struct {
				List []string `json:"list"`
			} `json:"community"`
			NextHops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
			Peer struct {
				PeerID string `json:"peerId"`
				Type   string `json:"type"`
			} `json:"peer"`
		} `json:"paths"`
	}
	if err := decode(data, &r); err != nil {
		return nil, fmt.Errorf("read FRR's BGP paths: %w", err)
	}
	var out []Path
	for _, p := range r.Paths {
		q := Path{Prefix: r.Prefix, Valid: p.Valid, Best: p.BestPath != nil && p.BestPath.Overall, Origin: strings.ToUpper(p.Origin),
			Peer: peer(p.Peer.PeerID), External: p.Peer.Type == "external" && peer(p.Peer.PeerID) != ""}
		for _, s := range p.ASPath.Segments {
			q.ASPath = append(q.ASPath, s.List...) // a set (aggregation) counts its ASes once each
		}
		if p.LocPrf != nil {
			q.LocalPref = *p.LocPrf
		}
		if p.Community != nil {
			q.Communities = p.Community.List
		}
		if len(p.NextHops) > 0 {
			q.NextHop = p.NextHops[0].IP
		}
		out = append(out, q)
	}
	sortPaths(out)
	return out, nil
}

// ParseRoutes parses show ip route [PREFIX] json: the routes, by prefix,
// selected first.
func ParseRoutes(data []byte) ([]Route, error) {
	if !isJSON(data) {
		return nil, nil
	}
	var t map[string][]struct {
		Protocol  string `json:"protocol"`
		Selected  bool   `json:"selected"`
		Installed bool   `json:"installed"`
		Distance  int    `json:"distance"`
		Metric    int    `json:"metric"`
		NextHops  []struct {
			IP        string `json:"ip"`
			Interface string `json:"interfaceName"`
			Connected bool   `json:"directlyConnected"`
			Active    bool   `json:"active"`
		} `json:"nexthops"`
	}
	if err := decode(data, &t); err != nil {
		return nil, fmt.Errorf("read FRR's routes: %w", err)
	}
	var out []Route
	for prefix, routes := range t {
		for _, r := range routes {
			q := Route{Prefix: prefix, Protocol: r.Protocol, Selected: r.Selected, Installed: r.Installed, Distance: r.Distance, Metric: r.Metric}
			for _, nh := range r.NextHops {
				switch {
				case nh.IP != "" && nh.Interface != "":
					q.NextHops = append(q.NextHops, nh.IP+" via "+nh.Interface)
				case nh.IP != "":
					q.NextHops = append(q.NextHops, nh.IP)
				default:
					q.NextHops = append(q.NextHops, "directly connected, "+nh.Interface)
				}
			}
			out = append(out, q)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Prefix != out[j].Prefix {
			return prefixLess(out[i].Prefix, out[j].Prefix)
		}
		return out[i].Selected && !out[j].Selected
	})
	return out, nil
}

// Best is the best of paths, or nil.
func Best(paths []Path) *Path {
	for i := range paths {
		if paths[i].Best {
			return &paths[i]
		}
	}
	return nil
}

func decode(data []byte, v any) error {
	if !isJSON(data) {
		return fmt.Errorf("not JSON: %s", FirstLine(data))
	}
	return json.Unmarshal(data, v)
}

// isJSON says whether FRR printed JSON, not a message such as
// "% Network not in table" or "bgpd is not running".
func isJSON(data []byte) bool {
	s := strings.TrimSpace(string(data))
	return strings.HasPrefix(s, "{")
}

// FirstLine is the first line of what a command printed, quoted and
// shortened, for messages.
func FirstLine(data []byte) string {
	s := strings.TrimSpace(string(data))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	if s == "" {
		return "nothing"
	}
	return strconv.Quote(s)
}

// parseASPath reads "3 1" (and tolerates a set "{4,5}" as its members).
func parseASPath(s string) ([]int, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '{' || r == '}' || r == ',' || r == '(' || r == ')' })
	var out []int
	for _, w := range f {
		n, err := strconv.Atoi(w)
		if err != nil {
			return nil, fmt.Errorf("AS path %q: %q is not an AS number", s, w)
		}
		out = append(out, n)
	}
	return out, nil
}

// peer is FRR's peer id, "" for the router's own routes (0.0.0.0 or
// "(unspec)").
func peer(id string) string {
	if id == "0.0.0.0" || id == "(unspec)" {
		return ""
	}
	return id
}

func sortPaths(p []Path) {
	sort.SliceStable(p, func(i, j int) bool {
		if p[i].Prefix != p[j].Prefix {
			return prefixLess(p[i].Prefix, p[j].Prefix)
		}
		if p[i].Best != p[j].Best {
			return p[i].Best
		}
		return slices.Compare(p[i].ASPath, p[j].ASPath) < 0
	})
}

// prefixLess orders prefixes by their address's numbers, then length.
func prefixLess(a, b string) bool {
	return slices.Compare(prefixKey(a), prefixKey(b)) < 0
}

func prefixKey(p string) []int {
	var k []int
	for _, w := range strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '/' || r == ':' }) {
		n, _ := strconv.ParseInt(w, 16, 64) // decimal parts order the same read as hex
		k = append(k, int(n))
	}
	return k
}

// BestTo is the best path of the longest prefix in paths (a whole table,
// as ParseTable reads it) that holds addr, as the router's BGP chooses
// it; nil if no prefix with a best path holds addr.
func BestTo(paths []Path, addr netip.Addr) *Path {
	var best *Path
	bits := -1
	for i := range paths {
		p := &paths[i]
		if !p.Best {
			continue
		}
		pfx, err := netip.ParsePrefix(p.Prefix)
		if err != nil || !pfx.Contains(addr) || pfx.Bits() <= bits {
			continue
		}
		best, bits = p, pfx.Bits()
	}
	return best
}
