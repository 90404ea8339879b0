package checks

import (
	"context"
	"net/netip"
	"regexp"
	"testing"
	"time"
)

// The matrix's Ping: every destination from one socket a family, each
// answer given to its own destination, whatever order they come in.
func TestPingManyAtOnce(t *testing.T) {
	nodes := topology(t)
	p := &NetProber{Nodes: nodes}
	a := netip.MustParseAddr
	addrs := []netip.Addr{a("10.9.2.2"), a("10.9.3.1"), a("fd09:2::2"), a("10.9.1.1"), a("fd09:2::1"), a("10.9.2.2"), a("10.9.2.99")}
	want := []string{`^reply from 10\.9\.2\.2 in `, `^10\.9\.1\.1: network unreachable$`, `^reply from fd09:2::2 in `,
		`^reply from 10\.9\.1\.1 in `, `^reply from fd09:2::1 in `, `^reply from 10\.9\.2\.2 in `, `^no reply from 10\.9\.2\.99 in 1s$`}
	echoes, err := p.Ping(context.Background(), "a", addrs, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range echoes {
		if e.OK != (i != 1 && i != 6) || !regexp.MustCompile(want[i]).MatchString(e.Detail) {
			t.Errorf("%s: ok %v, %q; want %s", addrs[i], e.OK, e.Detail, want[i])
		}
	}
}
