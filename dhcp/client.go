package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
)

// Client keeps a lease on each of a node's interfaces, from inside the
// node's namespace: it takes one, configures the address (with the
// lease's lifetime, so that the kernel drops it when the lease ends
// unrenewed), the default route and /etc/resolv.conf, renews it at half
// time and starts over when the server says no or the lease runs out.
type Client struct {
	Ifaces     []string
	DNS        bool   // write the lease's name servers to ResolvConf
	ResolvConf string // default /etc/resolv.conf
	Hostname   string // sent in option 12, so that servers can name the client
	Logf       func(format string, args ...any)

	mu       sync.Mutex
	dnsOwner int // index of the interface whose name servers are in ResolvConf, -1 for none
}

// Run keeps leases until ctx ends. bound is called once every interface
// has had its first lease.
func (c *Client) Run(ctx context.Context, bound func()) error {
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	c.dnsOwner = -1
	var wg sync.WaitGroup
	var first sync.WaitGroup
	for k, iface := range c.Ifaces {
		if _, err := net.InterfaceByName(iface); err != nil {
			return fmt.Errorf("dhcp on %s: %w", iface, err)
		}
		wg.Add(1)
		first.Add(1)
		go func() {
			defer wg.Done()
			c.keep(ctx, k, iface, sync.OnceFunc(first.Done))
		}()
	}
	go func() {
		first.Wait()
		if ctx.Err() == nil {
			bound()
		}
	}()
	wg.Wait()
	return ctx.Err()
}

// keep holds a lease on one interface; bound is called after the first.
func (c *Client) keep(ctx context.Context, k int, iface string, bound func()) {
	var lease *nclient4.Lease
	for ctx.Err() == nil {
		if lease == nil {
			if lease = c.acquire(ctx, iface); lease == nil {
				return
			}
			if err := c.configure(k, iface, lease.ACK); err != nil {
				c.Logf("%s: %v", iface, err)
				lease = nil
				sleep(ctx, 2*time.Second)
				continue
			}
			bound()
		}
		took := lease.CreationTime
		length := lease.ACK.IPAddressLeaseTime(time.Hour)
		end := took.Add(length)
		if !sleep(ctx, time.Until(took.Add(lease.ACK.IPAddressRenewalTime(length/2)))) {
			return
		}
		renewed := false
		for time.Now().Before(end) && ctx.Err() == nil {
			next, err := c.exchange(ctx, iface, func(cl *nclient4.Client) (*nclient4.Lease, error) {
				return cl.Renew(ctx, lease, c.hostname())
			})
			var nak *nclient4.ErrNak
			if errors.As(err, &nak) {
				c.Logf("%s: the server refused to renew %s; asking again", iface, lease.ACK.YourIPAddr)
				break
			}
			if err == nil {
				lease.ACK = next.ACK
				lease.CreationTime = next.CreationTime
				if err := c.configure(k, iface, lease.ACK); err != nil {
					c.Logf("%s: %v", iface, err)
				}
				renewed = true
				break
			}
			sleep(ctx, max(time.Until(end)/2, 2*time.Second))
		}
		if !renewed {
			c.unconfigure(iface, lease.ACK)
			lease = nil
		}
	}
}

// acquire takes a lease, asking again until a server answers or ctx ends.
func (c *Client) acquire(ctx context.Context, iface string) *nclient4.Lease {
	start, warned := time.Now(), time.Time{}
	delay := time.Second
	for {
		lease, err := c.exchange(ctx, iface, func(cl *nclient4.Client) (*nclient4.Lease, error) {
			return cl.Request(ctx, c.hostname())
		})
		if err == nil {
			return lease
		}
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(warned) > 30*time.Second && time.Since(start) > 5*time.Second {
			c.Logf("%s: no lease yet after %s (is a DHCP server on the segment?): %v", iface, time.Since(start).Round(time.Second), err)
			warned = time.Now()
		}
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, 8*time.Second)
	}
}

// exchange runs one exchange on a packet socket opened for it: a socket
// left open would copy every IPv4 packet of the interface to the client.
func (c *Client) exchange(ctx context.Context, iface string, do func(*nclient4.Client) (*nclient4.Lease, error)) (*nclient4.Lease, error) {
	cl, err := nclient4.New(iface, nclient4.WithTimeout(2*time.Second), nclient4.WithRetry(2))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return do(cl)
}

func (c *Client) hostname() dhcpv4.Modifier {
	return dhcpv4.WithOption(dhcpv4.OptHostName(c.Hostname))
}

// configure puts a lease in place: the address with the lease's
// lifetime (replacing an earlier lease's other address), a default route
// through the lease's router unless the node has one, and its name
// servers.
func (c *Client) configure(k int, iface string, ack *dhcpv4.DHCPv4) error {
	l, err := netlink.LinkByName(iface)
	if err != nil {
		return err
	}
	ip := ack.YourIPAddr.To4()
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ip.DefaultMask()
	}
	secs := int(ack.IPAddressLeaseTime(time.Hour) / time.Second)
	ipn := &net.IPNet{IP: ip, Mask: mask}
	addr := &netlink.Addr{IPNet: ipn, Broadcast: broadcast(ipn), ValidLft: secs, PreferedLft: secs}
	old, _ := netlink.AddrList(l, netlink.FAMILY_V4)
	for _, o := range old {
		if !o.IP.Equal(ip) && o.ValidLft > 0 && o.ValidLft != forever {
			netlink.AddrDel(l, &o) // an earlier lease's address
		}
	}
	fresh := true
	for _, o := range old {
		fresh = fresh && !o.IP.Equal(ip)
	}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("set address %s: %w", ipn, err)
	}
	if fresh {
		ones, _ := mask.Size()
		msg := fmt.Sprintf("%s: leased %s/%d from %s for %s", iface, ip, ones, ack.ServerIdentifier(), time.Duration(secs)*time.Second)
		if r := ack.Router(); len(r) > 0 {
			msg += ", gateway " + r[0].String()
		}
		c.Logf("%s", msg)
	}
	if r := ack.Router(); len(r) > 0 && !hasDefaultRoute() {
		route := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: r[0].To4(), Dst: &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}}
		if err := netlink.RouteAdd(route); err != nil && !os.IsExist(err) {
			return fmt.Errorf("default route via %s: %w", r[0], err)
		}
	}
	if dns := ack.DNS(); c.DNS && len(dns) > 0 {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.dnsOwner == -1 || k <= c.dnsOwner {
			c.dnsOwner = k
			return c.writeResolvConf(dns, ack.DomainName())
		}
	}
	return nil
}

// forever is the lifetime of an address that does not expire.
const forever = 0xffffffff

// unconfigure removes a lease's address when the lease ended unrenewed
// (the kernel may have done so already), and routes through it with it.
func (c *Client) unconfigure(iface string, ack *dhcpv4.DHCPv4) {
	c.Logf("%s: the lease of %s ended; asking again", iface, ack.YourIPAddr)
	l, err := netlink.LinkByName(iface)
	if err != nil {
		return
	}
	ipn := &net.IPNet{IP: ack.YourIPAddr.To4(), Mask: ack.SubnetMask()}
	netlink.AddrDel(l, &netlink.Addr{IPNet: ipn})
}

func hasDefaultRoute() bool {
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: 254}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return false
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask) {
			return true
		}
	}
	return false
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

func broadcast(n *net.IPNet) net.IP {
	b := make(net.IP, 4)
	for i := range b {
		b[i] = n.IP[i] | ^n.Mask[i]
	}
	return b
}

// writeResolvConf writes name servers and search domain, in place:
// /etc/resolv.conf is a file the container engine mounted, which cannot
// be replaced by a rename.
func (c *Client) writeResolvConf(dns []net.IP, domain string) error {
	var b strings.Builder
	b.WriteString("# written by netlab's DHCP client from its lease\n")
	if domain != "" {
		fmt.Fprintf(&b, "search %s\n", domain)
	}
	for _, d := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	if old, err := os.ReadFile(c.ResolvConf); err == nil && string(old) == b.String() {
		return nil
	}
	if err := os.WriteFile(c.ResolvConf, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write name servers: %w", err)
	}
	return nil
}

// sleep waits for d or until ctx ends, and tells whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
