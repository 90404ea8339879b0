package hostproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/dhcp"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/wire"
)

// A network's DHCP is served by a netlab process on the host, one per
// network, like a published port's forwarder: its pid file, configuration,
// leases and log live in the lab's run directory, so down stops it and
// the leases survive a restart of a node, or of the server.
//
// Without a server node it serves from a network namespace of its own,
// which it makes when it starts: a veth pair whose host end is a port of
// the network's bridge and whose other end holds the server's address.
// The namespace lives as long as the process, so nothing outlives it; and
// the host's own routing never sees the lab's subnet, so two labs can use
// the same one. With a server node it opens its socket in that node's
// namespace, on the node's interface; a restart of the node makes a new
// namespace, and up starts the server again there.

// dhcpdConfig is what the server process is told, as a JSON file.
type dhcpdConfig struct {
	planner.DHCPD
	NodePid   int    `json:"node_pid,omitempty"` // the server node's process
	NodeNetNS string `json:"node_netns,omitempty"`
	PidFile   string `json:"pid_file"`
	LeaseFile string `json:"lease_file"`
}

// dhcpdFiles are the server's pid, configuration and lease files.
func dhcpdFiles(lab string, d *planner.DHCPD) (pidFile, confFile, leaseFile string) {
	pidFile = filepath.Join(engine.RunDir, lab, d.PidName)
	base := strings.TrimSuffix(pidFile, ".pid")
	return pidFile, base + ".json", base + ".leases"
}

// EnsureDHCPServer starts the network's DHCP server unless it runs with
// the same configuration (for a server node: in its current namespace)
// and, in its own namespace, is still plugged into the bridge. node is the
// server node (nil for netlab's own namespace).
func EnsureDHCPServer(host *netlink.Handle, lab string, d *planner.DHCPD, node *engine.Node, self string) (changed bool, err error) {
	pidFile, confFile, leaseFile := dhcpdFiles(lab, d)
	cfg := dhcpdConfig{DHCPD: *d, PidFile: pidFile, LeaseFile: leaseFile}
	if node != nil {
		cfg.NodePid, cfg.NodeNetNS = node.Pid, node.NetNS
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return false, err
	}
	if pid, ok := Running(pidFile); ok {
		old, _ := os.ReadFile(confFile)
		if bytes.Equal(old, data) && (node != nil || plugged(host, d)) {
			return false, nil
		}
		syscall.Kill(pid, syscall.SIGTERM)
		waitGone(pid)
	}
	if err := os.MkdirAll(filepath.Dir(confFile), 0o755); err != nil {
		return false, err
	}
	if err := os.WriteFile(confFile, data, 0o644); err != nil {
		return false, fmt.Errorf("dhcp server of %s: %w", d.Network, err)
	}
	if err := Start(pidFile, self, cmdDHCPD, "--config", confFile); err != nil {
		return false, fmt.Errorf("dhcp server of %s: %w", d.Network, err)
	}
	return true, nil
}

// plugged tells whether the host end of the server's veth is on its bridge.
func plugged(host *netlink.Handle, d *planner.DHCPD) bool {
	port, err := wire.LinkByName(host, d.Port.Name)
	br, err2 := wire.LinkByName(host, d.Bridge)
	return err == nil && err2 == nil && port != nil && br != nil && port.Attrs().MasterIndex == br.Attrs().Index
}

// RunDHCPServer is the DHCP server process: it opens its socket in its
// namespace, writes its pid file and serves until ctx ends.
func RunDHCPServer(ctx context.Context, confFile string, logger *log.Logger) error {
	data, err := os.ReadFile(confFile)
	if err != nil {
		return err
	}
	var cfg dhcpdConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", confFile, err)
	}
	// This thread moves into the server's namespace for good, so that the
	// socket is made there; other threads stay in the host's.
	runtime.LockOSThread()
	if cfg.Node == "" {
		ns, err := ownNamespace(&cfg.DHCPD)
		if err != nil {
			return err
		}
		defer ns.Close()
	} else {
		ns, err := netns.GetFromPid(cfg.NodePid)
		if err != nil {
			return fmt.Errorf("namespace of node %s: %w", cfg.Node, err)
		}
		defer ns.Close()
		if id, _ := nodeinit.Instance(strconv.Itoa(cfg.NodePid)); id != cfg.NodeNetNS {
			return fmt.Errorf("node %s was restarted; run netlab up again", cfg.Node)
		}
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("enter namespace of node %s: %w", cfg.Node, err)
		}
	}
	srv, err := dhcp.NewServer(dhcp.Config{Server: cfg.Addr, First: cfg.First, Last: cfg.Last, Router: cfg.Router, DNS: cfg.DNS, Lease: cfg.Lease},
		cfg.LeaseFile, logger.Printf)
	if err != nil {
		return err
	}
	conn, err := server4.NewIPv4UDPConn(cfg.Iface, &net.UDPAddr{Port: 67})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Iface, err)
	}
	s, err := server4.NewServer(cfg.Iface, nil, srv.Handle, server4.WithConn(conn))
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	logger.Printf("serving %s-%s on %s as %s", cfg.First, cfg.Last, cfg.Iface, cfg.Addr)
	go func() { <-ctx.Done(); s.Close() }()
	err = s.Serve()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// ownNamespace moves the calling (locked) thread into a new network
// namespace and plugs it into the bridge: a veth pair, the host end on
// the bridge, the other end with the server's address.
func ownNamespace(d *planner.DHCPD) (netns.NsHandle, error) {
	host, err := netlink.NewHandle()
	if err != nil {
		return netns.None(), err
	}
	defer host.Close()
	br, err := host.LinkByName(d.Bridge)
	if err != nil {
		return netns.None(), fmt.Errorf("bridge %s: %w", d.Bridge, err)
	}
	if old, _ := wire.LinkByName(host, d.Port.Name); old != nil {
		host.LinkDel(old) // left by a server that stopped, its namespace not yet gone
	}
	ns, err := netns.New() // unshare: this thread is now in the new namespace
	if err != nil {
		return netns.None(), fmt.Errorf("new namespace: %w", err)
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: d.Port.Name, MTU: d.Port.MTU, MasterIndex: br.Attrs().Index},
		PeerName:         d.Iface,
		PeerNamespace:    netlink.NsFd(ns),
		PeerHardwareAddr: wire.MAC(d.MAC),
		PeerMTU:          uint32(d.Port.MTU),
	}
	if err := host.LinkAdd(veth); err != nil && !errors.Is(err, syscall.EEXIST) {
		ns.Close()
		return netns.None(), fmt.Errorf("create veth %s: %w", d.Port.Name, err)
	}
	if err := host.LinkSetAlias(veth, d.Port.Alias); err != nil {
		ns.Close()
		return netns.None(), fmt.Errorf("set alias of %s: %w", d.Port.Name, err)
	}
	if err := host.LinkSetUp(veth); err != nil {
		ns.Close()
		return netns.None(), fmt.Errorf("bring %s up: %w", d.Port.Name, err)
	}
	inside, err := wire.NewNS(ns, "the DHCP server")
	if err != nil {
		return netns.None(), err
	}
	_, err = wire.EnsureAddrs(inside, &planner.Addr{Iface: d.Iface, Addrs: []netip.Prefix{d.Addr}})
	inside.Handle().Close()
	return ns, err
}
