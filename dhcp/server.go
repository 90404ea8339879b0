// Package dhcp is netlab's IPv4 DHCP: the server netlab runs for a
// network that offers DHCP, and the client a node's init runs for its
// interfaces with address: dhcp. Packets are built and parsed by
// github.com/insomniacslk/dhcp; this package decides what to answer and
// what to configure.
package dhcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Config is what a server hands out.
type Config struct {
	Server      netip.Prefix // the server's address; its prefix length is the clients'
	First, Last netip.Addr   // the range leased
	Router      netip.Addr   // default gateway (zero: none)
	DNS         []netip.Addr // name servers
	Lease       time.Duration
}

// Binding ties a client's MAC to an address until Expiry. A binding
// outlives its lease: a client that comes back gets the same address
// unless the range ran out and it went to another client.
type Binding struct {
	MAC      string     `json:"mac"`
	Addr     netip.Addr `json:"addr"`
	Expiry   time.Time  `json:"expiry"`
	Hostname string     `json:"hostname,omitempty"`
}

// offerHold is how long an offered address waits for its request.
const offerHold = 30 * time.Second

// declined is the MAC of a binding that keeps an address a client found
// in use (DHCPDECLINE) out of the range for a lease's time.
const declined = "declined"

// Server answers DHCP messages from its bindings, which it keeps in a
// file so that they survive a restart of the server and of its clients.
type Server struct {
	cfg  Config
	file string // "" keeps bindings in memory only
	now  func() time.Time
	logf func(format string, args ...any)

	mu       sync.Mutex
	bindings map[string]*Binding // by MAC
}

// NewServer makes a server that keeps its bindings in file, reading those
// already there. logf reports what the server does.
func NewServer(cfg Config, file string, logf func(format string, args ...any)) (*Server, error) {
	if !cfg.Server.Addr().Is4() || !cfg.First.Is4() || !cfg.Last.Is4() || cfg.Last.Less(cfg.First) {
		return nil, fmt.Errorf("dhcp server: need an IPv4 server address and range, have %s and %s-%s", cfg.Server, cfg.First, cfg.Last)
	}
	s := &Server{cfg: cfg, file: file, now: time.Now, logf: logf, bindings: map[string]*Binding{}}
	if file == "" {
		return s, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	var list []*Binding
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("read leases %s: %w", file, err)
	}
	for _, b := range list {
		s.bindings[b.MAC] = b
	}
	return s, nil
}

// Bindings returns the bindings, by address.
func (s *Server) Bindings() []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Binding, 0, len(s.bindings))
	for _, b := range s.bindings {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Binding) int { return a.Addr.Compare(b.Addr) })
	return out
}

// Handle answers one message on conn: the Handler of a server4.Server.
// A NAK, and anything for a client without an address, is broadcast.
func (s *Server) Handle(conn net.PacketConn, peer net.Addr, req *dhcpv4.DHCPv4) {
	resp := s.Reply(req)
	if resp == nil {
		return
	}
	to := peer
	if u, ok := peer.(*net.UDPAddr); ok && (resp.MessageType() == dhcpv4.MessageTypeNak || !addrOf(req.ClientIPAddr).IsValid()) {
		to = &net.UDPAddr{IP: net.IPv4bcast, Port: u.Port}
	}
	if _, err := conn.WriteTo(resp.ToBytes(), to); err != nil {
		s.logf("%s to %s: %v", resp.MessageType(), resp.ClientHWAddr, err)
	}
}

// Reply is the answer to a client's message, or nil for none.
func (s *Server) Reply(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if req.OpCode != dhcpv4.OpcodeBootRequest || len(req.ClientHWAddr) != 6 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mac := req.ClientHWAddr.String()
	server := s.cfg.Server.Addr()
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		a, ok := s.pick(mac, addrOf(req.RequestedIPAddress()))
		if !ok {
			s.logf("no free address in %s-%s for %s", s.cfg.First, s.cfg.Last, mac)
			return nil
		}
		hold := s.now().Add(offerHold)
		if b := s.bindings[mac]; b != nil && b.Addr == a && b.Expiry.After(hold) {
			hold = b.Expiry // a lease that runs stays as long
		}
		s.bind(mac, a, hold, req.HostName())
		return s.reply(req, dhcpv4.MessageTypeOffer, a)
	case dhcpv4.MessageTypeRequest:
		if sid := addrOf(req.ServerIdentifier()); sid.IsValid() && sid != server {
			return nil // the client took another server's offer
		}
		want := addrOf(req.RequestedIPAddress())
		if !want.IsValid() {
			want = addrOf(req.ClientIPAddr) // renewing or rebinding
		}
		b := s.bindings[mac]
		if b == nil || b.Addr != want {
			if a, ok := s.pick(mac, want); !ok || a != want {
				s.logf("NAK %s for %s: not its address", mac, want)
				return s.reply(req, dhcpv4.MessageTypeNak, netip.Addr{})
			}
		}
		s.bind(mac, want, s.now().Add(s.cfg.Lease), req.HostName())
		s.logf("lease %s to %s %s for %s", want, mac, req.HostName(), s.cfg.Lease)
		return s.reply(req, dhcpv4.MessageTypeAck, want)
	case dhcpv4.MessageTypeRelease:
		if b := s.bindings[mac]; b != nil && b.Addr == addrOf(req.ClientIPAddr) {
			s.bind(mac, b.Addr, s.now(), b.Hostname) // the address stays the client's while it is free
			s.logf("released %s by %s", b.Addr, mac)
		}
		return nil
	case dhcpv4.MessageTypeDecline:
		if b := s.bindings[mac]; b != nil && b.Addr == addrOf(req.RequestedIPAddress()) {
			delete(s.bindings, mac)
			s.bind(declined+" "+b.Addr.String(), b.Addr, s.now().Add(s.cfg.Lease), "")
			s.logf("%s declined %s: in use by another", mac, b.Addr)
		}
		return nil
	case dhcpv4.MessageTypeInform:
		return s.reply(req, dhcpv4.MessageTypeAck, netip.Addr{})
	}
	return nil
}

// pick chooses the address for mac: the one bound to it; else the one it
// asks for if nobody holds it; else the first address nobody ever held;
// else the one whose lease ended longest ago.
func (s *Server) pick(mac string, want netip.Addr) (netip.Addr, bool) {
	if b := s.bindings[mac]; b != nil {
		return b.Addr, true
	}
	holder := map[netip.Addr]*Binding{}
	for _, b := range s.bindings {
		holder[b.Addr] = b
	}
	if s.inRange(want) && holder[want] == nil {
		return want, true
	}
	for a := s.cfg.First; a.IsValid() && a.Compare(s.cfg.Last) <= 0; a = a.Next() {
		if holder[a] == nil && a != s.cfg.Server.Addr() {
			return a, true
		}
	}
	var oldest *Binding
	for _, b := range s.bindings {
		if b.Expiry.Before(s.now()) && s.inRange(b.Addr) && (oldest == nil || b.Expiry.Before(oldest.Expiry)) {
			oldest = b
		}
	}
	if oldest == nil {
		return netip.Addr{}, false
	}
	delete(s.bindings, oldest.MAC)
	return oldest.Addr, true
}

func (s *Server) inRange(a netip.Addr) bool {
	return a.IsValid() && s.cfg.First.Compare(a) <= 0 && a.Compare(s.cfg.Last) <= 0 && a != s.cfg.Server.Addr()
}

// bind records a binding and writes the bindings to the file.
func (s *Server) bind(mac string, a netip.Addr, expiry time.Time, hostname string) {
	s.bindings[mac] = &Binding{MAC: mac, Addr: a, Expiry: expiry.Round(time.Second), Hostname: hostname}
	if s.file == "" {
		return
	}
	list := make([]*Binding, 0, len(s.bindings))
	for _, b := range s.bindings {
		list = append(list, b)
	}
	slices.SortFunc(list, func(a, b *Binding) int { return a.Addr.Compare(b.Addr) })
	data, _ := json.MarshalIndent(list, "", "  ")
	tmp := s.file + ".tmp"
	err := os.WriteFile(tmp, append(data, '\n'), 0o644)
	if err == nil {
		err = os.Rename(tmp, s.file)
	}
	if err != nil {
		s.logf("write leases: %v", err)
	}
}

// reply builds an OFFER, ACK or NAK for req; a is the client's address
// (zero for a NAK, and for the ACK of an INFORM).
func (s *Server) reply(req *dhcpv4.DHCPv4, t dhcpv4.MessageType, a netip.Addr) *dhcpv4.DHCPv4 {
	server := net.IP(s.cfg.Server.Addr().AsSlice())
	mods := []dhcpv4.Modifier{dhcpv4.WithMessageType(t), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(server))}
	if t == dhcpv4.MessageTypeNak {
		mods = append(mods, dhcpv4.WithYourIP(net.IPv4zero), dhcpv4.WithClientIP(net.IPv4zero))
	} else {
		mods = append(mods, dhcpv4.WithClientIP(req.ClientIPAddr), dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(s.cfg.Server.Bits(), 32))))
		if a.IsValid() {
			mods = append(mods, dhcpv4.WithYourIP(a.AsSlice()), dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(s.cfg.Lease)))
		}
		if s.cfg.Router.IsValid() {
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRouter(s.cfg.Router.AsSlice())))
		}
		if len(s.cfg.DNS) > 0 {
			ips := make([]net.IP, len(s.cfg.DNS))
			for i, d := range s.cfg.DNS {
				ips[i] = d.AsSlice()
			}
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDNS(ips...)))
		}
	}
	resp, err := dhcpv4.NewReplyFromRequest(req, mods...)
	if err != nil {
		s.logf("reply to %s: %v", req.ClientHWAddr, err)
		return nil
	}
	return resp
}

// addrOf converts an IPv4 address from the packet library (zero if none
// or unspecified).
func addrOf(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}
