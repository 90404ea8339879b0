package hostproc

import (
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
)

// Pure: status reads the published address and protocol back from the pid
// file's name; TCP and UDP ports of one number have two files.
func TestPublishedAddrFromPidFile(t *testing.T) {
	cases := []struct {
		p    planner.Publish
		want string
	}{
		{planner.Publish{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 2201, Proto: "tcp"}, "127.0.0.1:2201/tcp"},
		{planner.Publish{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 2201, Proto: "udp"}, "127.0.0.1:2201/udp"},
		{planner.Publish{HostIP: netip.MustParseAddr("::1"), HostPort: 5353, Proto: "udp"}, "[::1]:5353/udp"},
		{planner.Publish{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: 80, Proto: "tcp"}, "0.0.0.0:80/tcp"},
	}
	files := map[string]bool{}
	for _, c := range cases {
		f := forwardPidFile("lab", "h1", &c.p)
		files[f] = true
		if got := PublishedAddr(f); got != c.want {
			t.Errorf("%s: got %s, want %s", f, got, c.want)
		}
	}
	if len(files) != len(cases) {
		t.Errorf("pid files collide: %v", files)
	}
	// A forwarder started by a netlab that knew only TCP is read as TCP.
	if got := PublishedAddr("/run/netlab/lab/publish-h1@127.0.0.1-18080.pid"); got != "127.0.0.1:18080/tcp" {
		t.Errorf("old pid file: %s", got)
	}
}

// Pure: what starts a helper and what the helper reads back agree.
func TestCommandLines(t *testing.T) {
	p := &planner.Publish{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 2201, NodePort: 22, Proto: "udp",
		Dial: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.2")}}
	args := forwardArgs("lab", "h1", p, "/run/x.pid")
	if !Is(args[0]) {
		t.Fatalf("forwarder's command %q is not a helper's", args[0])
	}
	f, pidFile, ok := parseForward(args[1:], io.Discard)
	want := Forwarding{Proto: "udp", Listen: "127.0.0.1:2201", Container: naming.Container("lab", "h1"), Port: 22, Dial: p.Dial}
	if !ok || pidFile != "/run/x.pid" || !reflect.DeepEqual(f, want) {
		t.Errorf("forwarder: read back %+v, %q, %v; want %+v", f, pidFile, ok, want)
	}

	r := &planner.Relay{Host: [2]planner.VethEnd{{Name: "nla"}, {Name: "nlb"}},
		Spec: spec.Impairment{Delay: 40 * time.Millisecond, Jitter: 5 * time.Millisecond, LossPercent: 1.5, RateBytes: 125000}}
	args = relayArgs(r, "/run/r.pid")
	if !Is(args[0]) {
		t.Fatalf("relay's command %q is not a helper's", args[0])
	}
	a, b, im, pidFile, ok := parseRelay(args[1:], io.Discard)
	wantIm := Impairment{Delay: 40 * time.Millisecond, Jitter: 5 * time.Millisecond, LossPercent: 1.5, RateBytes: 125000}
	if !ok || a != "nla" || b != "nlb" || im != wantIm || pidFile != "/run/r.pid" {
		t.Errorf("relay: read back %s %s %+v %q %v", a, b, im, pidFile, ok)
	}
}
