package hostcheck

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Result is a feature's probe: whether the kernel did what the feature
// asks, and if not, what it answered.
type Result struct {
	Feature Feature `json:"feature"`
	Present bool    `json:"present"`
	Error   string  `json:"error,omitempty"`
}

// Kernel is the probes' outcome, one Result per feature of Features.
type Kernel []Result

// Has tells whether the probe found f. A feature the probes do not know
// counts as present: the kernel's answer decides when it is used.
func (k Kernel) Has(f Feature) bool {
	for _, r := range k {
		if r.Feature == f {
			return r.Present
		}
	}
	return true
}

// Probe tries every feature of Features in a network namespace of its own,
// which goes with everything made in it when Probe returns: it touches
// nothing of the host's. It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
func Probe() (Kernel, error) {
	ns, err := newNetns()
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("open a netlink socket in the probe namespace: %w", err)
	}
	defer h.Close()
	p := prober{h: h, ns: ns}
	out := make(Kernel, 0, len(Features))
	for _, f := range Features {
		err := p.try(f.Feature)
		r := Result{Feature: f.Feature, Present: err == nil}
		if err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
	}
	return out, nil
}

var (
	cached     Kernel
	cachedErr  error
	cachedOnce sync.Once
)

// Cached is Probe, run once per process: a kernel's features do not change
// while netlab runs.
func Cached() (Kernel, error) {
	cachedOnce.Do(func() { cached, cachedErr = Probe() })
	return cached, cachedErr
}

// newNetns makes a network namespace and returns a handle to it, leaving
// the calling thread where it was. A thread that cannot go back stays
// locked and ends with its goroutine.
func newNetns() (netns.NsHandle, error) {
	type made struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan made, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- made{err: fmt.Errorf("read this thread's network namespace: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := netns.New()
		if err != nil {
			ch <- made{err: fmt.Errorf("make a network namespace to probe the kernel (needs root): %w", err)}
			return
		}
		if err := netns.Set(orig); err != nil {
			ch <- made{ns: ns}
			return // the thread stays locked in the probe namespace and ends
		}
		runtime.UnlockOSThread()
		ch <- made{ns: ns}
	}()
	m := <-ch
	return m.ns, m.err
}

// prober tries features in its namespace; each makes what it needs under
// its own names.
type prober struct {
	h      *netlink.Handle
	ns     netns.NsHandle
	parent netlink.Link // a veth end, for the kinds that need a lower device
}

var (
	local  = net.IPv4(192, 0, 2, 1)
	remote = net.IPv4(192, 0, 2, 2)
)

func (p *prober) try(f Feature) error {
	attrs := func(name string) netlink.LinkAttrs { return netlink.LinkAttrs{Name: name} }
	switch f {
	case Veth:
		return p.add(&netlink.Veth{LinkAttrs: attrs("pveth0"), PeerName: "pveth1"})
	case Bridge:
		return p.add(&netlink.Bridge{LinkAttrs: attrs("pbr0")})
	case BridgeVLAN:
		return p.bridgeVLAN()
	case VLAN:
		return p.lower(func(idx int) netlink.Link {
			return &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "pvlan0", ParentIndex: idx}, VlanId: 10}
		})
	case Macvlan:
		return p.lower(func(idx int) netlink.Link {
			return &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: "pmacvlan0", ParentIndex: idx}, Mode: netlink.MACVLAN_MODE_BRIDGE}
		})
	case Ipvlan:
		return p.lower(func(idx int) netlink.Link {
			return &netlink.IPVlan{LinkAttrs: netlink.LinkAttrs{Name: "pipvlan0", ParentIndex: idx}, Mode: netlink.IPVLAN_MODE_L2}
		})
	case Vxlan:
		return p.add(&netlink.Vxlan{LinkAttrs: attrs("pvxlan0"), VxlanId: 10, Port: 4789})
	case Dummy:
		return p.add(&netlink.Dummy{LinkAttrs: attrs("pdummy0")})
	case IPIP:
		return p.add(&netlink.Iptun{LinkAttrs: attrs("pipip0"), Local: local, Remote: remote})
	case GRE:
		return p.add(&netlink.Gretun{LinkAttrs: attrs("pgre0"), Local: local, Remote: remote})
	case GRETap:
		return p.add(&netlink.Gretap{LinkAttrs: attrs("pgretap0"), Local: local, Remote: remote})
	case SIT:
		return p.add(&netlink.Sittun{LinkAttrs: attrs("psit0"), Local: local, Remote: remote})
	case Bonding:
		return p.add(netlink.NewLinkBond(attrs("pbond0")))
	case VRF:
		return p.add(&netlink.Vrf{LinkAttrs: attrs("pvrf0"), Table: 10})
	case Wireguard:
		return p.add(&netlink.Wireguard{LinkAttrs: attrs("pwg0")})
	case IFB:
		return p.add(&netlink.Ifb{LinkAttrs: attrs("pifb0")})
	case Tun:
		return p.tun()
	case Netem, TBF, HTB:
		return p.qdisc(f)
	case NFTables:
		return p.nftables()
	case MPLS:
		return mpls()
	}
	return fmt.Errorf("no probe for %s", f)
}

func (p *prober) add(l netlink.Link) error {
	if err := p.h.LinkAdd(l); err != nil {
		return fmt.Errorf("ip link add %s type %s: %w", l.Attrs().Name, l.Type(), err)
	}
	return nil
}

// lower makes the link mk returns on a veth end made once.
func (p *prober) lower(mk func(parent int) netlink.Link) error {
	if p.parent == nil {
		if err := p.add(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "plow0"}, PeerName: "plow1"}); err != nil {
			return fmt.Errorf("needs a veth to stand on: %w", err)
		}
		l, err := p.h.LinkByName("plow0")
		if err != nil {
			return err
		}
		p.parent = l
	}
	return p.add(mk(p.parent.Attrs().Index))
}

// bridgeVLAN makes a VLAN-filtering bridge and reads the filtering back:
// a kernel without it may take the attribute and ignore it.
func (p *prober) bridgeVLAN() error {
	on := true
	if err := p.add(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "pbrvlan0"}, VlanFiltering: &on}); err != nil {
		return err
	}
	l, err := p.h.LinkByName("pbrvlan0")
	if err != nil {
		return err
	}
	if br, ok := l.(*netlink.Bridge); !ok || br.VlanFiltering == nil || !*br.VlanFiltering {
		return errors.New("the bridge was made without VLAN filtering")
	}
	return nil
}

// tun makes a tap device, which needs /dev/net/tun on the host. The
// device is made in the namespace of the thread that asks: a thread of
// its own, moved into the probe namespace.
func (p *prober) tun() error {
	return inNetns(p.ns, func() error {
		t := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: "ptap0"}, Mode: netlink.TUNTAP_MODE_TAP,
			Flags: netlink.TUNTAP_DEFAULTS, NonPersist: true}
		if err := netlink.LinkAdd(t); err != nil {
			return fmt.Errorf("make a tap device through /dev/net/tun: %w", err)
		}
		for _, f := range t.Fds {
			f.Close()
		}
		return nil
	})
}

// inNetns runs fn on a thread moved into ns. A thread that cannot come
// back stays locked and ends with its goroutine.
func inNetns(ns netns.NsHandle, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			ch <- fmt.Errorf("enter the probe namespace: %w", err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

// qdisc puts the qdisc on a loopback of the namespace's own, each on its
// own: the namespace's lo has a root qdisc only once.
func (p *prober) qdisc(f Feature) error {
	lo, err := p.h.LinkByName("lo")
	if err != nil {
		return err
	}
	attrs := netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: netlink.MakeHandle(1, 0)}
	var q netlink.Qdisc
	switch f {
	case Netem:
		q = netlink.NewNetem(attrs, netlink.NetemQdiscAttrs{Latency: 1000})
	case TBF:
		q = &netlink.Tbf{QdiscAttrs: attrs, Rate: 1 << 20, Limit: 1 << 16, Buffer: 1 << 14}
	case HTB:
		q = netlink.NewHtb(attrs)
	}
	if err := p.h.QdiscAdd(q); err != nil {
		return fmt.Errorf("tc qdisc add dev lo root %s: %w", q.Type(), err)
	}
	return p.h.QdiscDel(q)
}

// nftables makes a table in the probe namespace.
func (p *prober) nftables() error {
	c, err := nftables.New(nftables.WithNetNSFd(int(p.ns)))
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	c.AddTable(&nftables.Table{Name: "netlab_probe", Family: nftables.TableFamilyINet})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nft add table inet netlab_probe: %w", err)
	}
	return nil
}

// mpls looks for the MPLS router's sysctls, which exist in every
// namespace once the kernel has them.
func mpls() error {
	if _, err := os.Stat("/proc/sys/net/mpls/platform_labels"); err != nil {
		return errors.New("no net.mpls.platform_labels sysctl: the kernel has no MPLS router (mpls_router)")
	}
	return nil
}
