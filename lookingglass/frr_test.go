package lookingglass

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The files in testdata were recorded from FRR 8.4.4 on the routers of a
// generated Internet of 4 ASes (netlab new internet --ases 4), converged.

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseTable(t *testing.T) {
	paths, err := ParseTable(read(t, "table-as4-zuri.json"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		prefix   string
		best     bool
		path     []int
		peer     string
		external bool
	}
	var got []row
	for _, p := range paths {
		got = append(got, row{p.Prefix, p.Best, p.ASPath, p.Peer, p.External})
	}
	want := []row{
		{"1.0.0.0/8", true, []int{1}, "4.152.0.1", false}, // from the IXP's route server, through iBGP
		{"1.0.0.0/8", false, []int{3, 1}, "179.3.4.3", true},
		{"2.0.0.0/8", true, []int{3, 2}, "179.3.4.3", true},
		{"3.0.0.0/8", true, []int{3}, "4.152.0.1", false},
		{"3.0.0.0/8", false, []int{3}, "179.3.4.3", true},
		{"4.0.0.0/8", true, nil, "", false}, // its own network
		{"4.0.0.0/8", false, nil, "4.152.0.1", false},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.prefix == b.prefix && a.best == b.best && slices.Equal(a.path, b.path) && a.peer == b.peer && a.external == b.external
	}) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if b := Best(paths[:2]); b == nil || b.LocalPref != 50 || b.NextHop != "4.152.0.1" {
		t.Errorf("best path to 1.0.0.0/8: %+v, want local-pref 50 via 4.152.0.1", b)
	}
}

func TestParsePrefix(t *testing.T) {
	paths, err := ParsePrefix(read(t, "prefix-as4-zuri-1.101.0.1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no paths")
	}
	b := Best(paths)
	if b == nil || b.Prefix != "1.0.0.0/8" || !slices.Equal(b.ASPath, []int{1}) || b.LocalPref != 50 || !slices.Equal(b.Communities, []string{"4:20"}) {
		t.Errorf("best path: %+v, want 1.0.0.0/8 from AS 1 (the route server's), local-pref 50, community 4:20", b)
	}
	paths, err = ParsePrefix(read(t, "prefix-as3-base-1.0.0.0_8.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || !paths[0].Best || paths[1].Best {
		t.Fatalf("as3-base's paths to 1.0.0.0/8: %+v, want two, the best first", paths)
	}
	// From AS 1 through the IXP's route server (which adds no AS of its
	// own), preferred as a peer's route, and from its provider AS 2.
	rs, provider := paths[0], paths[1]
	if !slices.Equal(rs.ASPath, []int{1}) || rs.Peer != "180.80.0.80" || rs.LocalPref != 50 || !slices.Equal(rs.Communities, []string{"3:20"}) {
		t.Errorf("best path %+v: want [1] from the route server 180.80.0.80, local-pref 50, community 3:20", rs)
	}
	if !slices.Equal(provider.ASPath, []int{2, 1}) || !provider.External || provider.LocalPref != 20 {
		t.Errorf("second path %+v: want [2 1] over eBGP, local-pref 20", provider)
	}
}

func TestParsePrefixNone(t *testing.T) {
	for _, data := range [][]byte{read(t, "prefix-none.json"), []byte("% Network not in table\n")} {
		paths, err := ParsePrefix(data)
		if err != nil || len(paths) != 0 {
			t.Errorf("ParsePrefix(%q) = %v, %v; want no paths, no error", data, paths, err)
		}
	}
}

func TestParseRoutes(t *testing.T) {
	routes, err := ParseRoutes(read(t, "routes-as4-zuri.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bgp, connected int
	for _, r := range routes {
		switch r.Protocol {
		case "bgp":
			bgp++
			if !r.Selected || !r.Installed || len(r.NextHops) == 0 {
				t.Errorf("bgp route %+v: want selected, installed, with a next hop", r)
			}
		case "connected":
			connected++
		}
	}
	if bgp != 3 || connected < 3 {
		t.Errorf("%d bgp and %d connected routes, want 3 and at least 3: %+v", bgp, connected, routes)
	}
	if routes[0].Prefix != "1.0.0.0/8" || routes[len(routes)-1].Prefix != "179.3.4.0/24" {
		t.Errorf("routes not in address order: first %s, last %s", routes[0].Prefix, routes[len(routes)-1].Prefix)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := ParseTable([]byte("bgpd is not running\n")); err == nil {
		t.Error("ParseTable took a message for a table")
	}
	if _, err := ParseTable([]byte(`{"routes": {"1.0.0.0/8": [{"path": "3 x"}]}}`)); err == nil {
		t.Error("ParseTable took a bad AS path")
	}
	if err := CheckPrefix("1.0.0.0/8; reboot"); err == nil {
		t.Error("CheckPrefix took a command")
	}
	for _, ok := range []string{"1.2.3.4", "1.0.0.0/8"} {
		if err := CheckPrefix(ok); err != nil {
			t.Errorf("CheckPrefix(%s): %v", ok, err)
		}
	}
}

func TestBestTo(t *testing.T) {
	paths, err := ParseTable(read(t, "table-as4-zuri.json"))
	if err != nil {
		t.Fatal(err)
	}
	// a longer prefix inside 2.0.0.0/8, and one that is not best
	paths = append(paths,
		Path{Prefix: "2.102.0.0/24", Best: true, ASPath: []int{1, 2}},
		Path{Prefix: "2.102.0.0/25", Best: false, ASPath: []int{9, 2}})
	cases := []struct {
		addr string
		want []int // nil: no path
	}{
		{"1.101.0.1", []int{1}},
		{"2.1.0.1", []int{3, 2}},   // only the /8 holds it
		{"2.102.0.1", []int{1, 2}}, // the /24 is longer; the /25 has no best path
		{"3.102.0.1", []int{3}},    // the best of two
		{"9.0.0.1", nil},           // in no prefix
		{"4.102.0.1", []int{}},     // its own network: an empty path
	}
	for _, c := range cases {
		got := BestTo(paths, netip.MustParseAddr(c.addr))
		switch {
		case got == nil && c.want != nil:
			t.Errorf("BestTo(%s) = nil, want the path %v", c.addr, c.want)
		case got != nil && c.want == nil:
			t.Errorf("BestTo(%s) = %+v, want nil", c.addr, *got)
		case got != nil && !slices.Equal(got.ASPath, c.want):
			t.Errorf("BestTo(%s) = path %v, want %v", c.addr, got.ASPath, c.want)
		}
	}
}
