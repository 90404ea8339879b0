package dhcp

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

var testConfig = Config{
	Server: netip.MustParsePrefix("10.0.0.254/24"),
	First:  netip.MustParseAddr("10.0.0.100"),
	Last:   netip.MustParseAddr("10.0.0.101"),
	Router: netip.MustParseAddr("10.0.0.1"),
	DNS:    []netip.Addr{netip.MustParseAddr("10.0.0.53")},
	Lease:  time.Minute,
}

func newTestServer(t *testing.T, file string, now *time.Time) *Server {
	t.Helper()
	s, err := NewServer(testConfig, file, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return *now }
	return s
}

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{2, 0x43, 0, 0, 0, last} }

// lease runs DISCOVER, OFFER, REQUEST, ACK for a client and returns its
// address (zero if the server made no offer or no ACK).
func lease(t *testing.T, s *Server, hw net.HardwareAddr) netip.Addr {
	t.Helper()
	disc, _ := dhcpv4.NewDiscovery(hw, dhcpv4.WithOption(dhcpv4.OptHostName("h")))
	offer := s.Reply(disc)
	if offer == nil {
		return netip.Addr{}
	}
	if offer.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("answer to DISCOVER is %s", offer.MessageType())
	}
	req, _ := dhcpv4.NewRequestFromOffer(offer)
	ack := s.Reply(req)
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("answer to REQUEST is %v", ack)
	}
	if ack.YourIPAddr.String() != offer.YourIPAddr.String() {
		t.Fatalf("offered %s, acknowledged %s", offer.YourIPAddr, ack.YourIPAddr)
	}
	if got := ack.Router(); len(got) != 1 || got[0].String() != "10.0.0.1" {
		t.Errorf("router %v", got)
	}
	if got := ack.DNS(); len(got) != 1 || got[0].String() != "10.0.0.53" {
		t.Errorf("dns %v", got)
	}
	if got, _ := ack.SubnetMask().Size(); got != 24 {
		t.Errorf("prefix length %d", got)
	}
	if got := ack.IPAddressLeaseTime(0); got != time.Minute {
		t.Errorf("lease %s", got)
	}
	if got := ack.ServerIdentifier().String(); got != "10.0.0.254" {
		t.Errorf("server identifier %s", got)
	}
	return addrOf(ack.YourIPAddr)
}

// Clients get addresses from the range, keep them across a restart of the
// server (bindings in the file) and of the client (same MAC), and a full
// range makes no offer until a lease has ended.
func TestServerLeases(t *testing.T) {
	file := filepath.Join(t.TempDir(), "leases")
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newTestServer(t, file, &now)
	a, b := lease(t, s, mac(1)), lease(t, s, mac(2))
	if a.String() != "10.0.0.100" || b.String() != "10.0.0.101" {
		t.Fatalf("leased %s and %s, want the range in order", a, b)
	}
	if c := lease(t, s, mac(3)); c.IsValid() {
		t.Fatalf("a full range leased %s", c)
	}

	s = newTestServer(t, file, &now) // restarted: bindings from the file
	if again := lease(t, s, mac(2)); again != b {
		t.Errorf("after a restart the client got %s, had %s", again, b)
	}
	now = now.Add(2 * time.Minute) // mac(1)'s lease ended, then mac(2)'s renewal too
	if again := lease(t, s, mac(1)); again != a {
		t.Errorf("a client whose lease ended got %s, had %s", again, a)
	}
	now = now.Add(2 * time.Minute)
	if c := lease(t, s, mac(3)); c != b && c != a {
		t.Errorf("a new client got %s once leases had ended, want one of them", c)
	}
}

// A REQUEST for an address that is not the client's gets a NAK; one for
// another server is ignored; a renewal (ciaddr set) is acknowledged.
func TestServerRequests(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := newTestServer(t, "", &now)
	a := lease(t, s, mac(1))
	lease(t, s, mac(2))

	steal, _ := dhcpv4.New(dhcpv4.WithHwAddr(mac(2)), dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(a.AsSlice())))
	if r := s.Reply(steal); r == nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("request for another client's address: %v, want a NAK", r)
	}
	other, _ := dhcpv4.New(dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(a.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 9))))
	if r := s.Reply(other); r != nil {
		t.Errorf("request for another server answered: %v", r)
	}
	now = now.Add(30 * time.Second)
	renew, _ := dhcpv4.New(dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(a.AsSlice()))
	r := s.Reply(renew)
	if r == nil || r.MessageType() != dhcpv4.MessageTypeAck || addrOf(r.YourIPAddr) != a {
		t.Fatalf("renewal answered %v", r)
	}
	for _, b := range s.Bindings() {
		if b.Addr == a && !b.Expiry.Equal(now.Add(time.Minute)) {
			t.Errorf("renewal left the lease ending at %s, want %s", b.Expiry, now.Add(time.Minute))
		}
	}
}
