package checks

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/netlab/netlab/spec"
)

// remoteOnly answers ping probes of node "far" as its agent would: a
// reply from even last octets; every other node is this host's.
type remoteOnly struct{}

func (remoteOnly) ProbeRemote(_ context.Context, c *spec.Check) (Outcome, bool) {
	if c.Node != "far" {
		return Outcome{}, false
	}
	if c.Probe != "ping" || c.Count != 1 || c.Limit != time.Second {
		return Outcome{Detail: "not the matrix's ping"}, true
	}
	ok := c.Addr.As4()[3]%2 == 0
	return Outcome{OK: ok, Detail: c.Addr.String()}, true
}

// The matrix's pings from a node on another host are its agent's ping
// probes, one per destination, in the order asked.
func TestMatrixPingRemote(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.4")}
	out, remote := pingRemote(context.Background(), remoteOnly{}, "far", addrs, time.Second)
	if !remote || len(out) != 3 {
		t.Fatalf("remote %v, %d answers", remote, len(out))
	}
	for i, want := range []bool{false, true, true} {
		if out[i].OK != want || out[i].Detail != addrs[i].String() {
			t.Errorf("%s: %+v, want OK %v", addrs[i], out[i], want)
		}
	}
	if _, remote := pingRemote(context.Background(), remoteOnly{}, "near", addrs, time.Second); remote {
		t.Error("a node of this host was pinged through an agent")
	}
}
