package provider

import (
	"context"
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/wire"
)

// Removed counts what Down removed.
type Removed struct {
	Containers    int `json:"containers"`
	Interfaces    int `json:"interfaces"`
	FirewallRules int `json:"firewall_rules"`
	ImageRoots    int `json:"image_roots"` // unpacked images of runc nodes removed from the cache
}

// Down removes everything of the lab, found from its name alone: its
// forwarders and relays, containers (and with them their namespaces, veths and NAT
// tables), host bridges and ports, host firewall rules, run directory and
// state directory;
// unless keepCache, also the image roots its runc nodes were made on that
// no other node's root uses (the rootfs cache: the next up unpacks them
// again). What is already gone counts as done.
func Down(ctx context.Context, d engine.Runtime, lab string, parallel int, keepCache bool) (Removed, error) {
	var r Removed
	var errs []error
	if err := hostproc.StopAll(lab); err != nil {
		errs = append(errs, err)
	}
	list, err := d.List(ctx, lab)
	if err != nil {
		return r, err
	}
	roots := imageRoots(list)
	var mu sync.Mutex
	c, ok := d.(interface {
		RemoveLab(ctx context.Context, lab string) error
	})
	if _, cluster := engine.MarkedCluster(lab); cluster && ok {
		// A cluster lab goes with its namespace, all at once.
		if err := c.RemoveLab(ctx, lab); err != nil {
			return r, err
		}
		r.Containers = len(list)
		list = nil
	}
	removed := true
	inParallel(len(list), parallel, func(i int) {
		err := d.Remove(ctx, list[i].ID)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs, removed = append(errs, err), false
		} else {
			r.Containers++
		}
	})
	links, rules, err := wire.RemoveLabHost(lab)
	r.Interfaces += links
	r.FirewallRules += rules
	if err != nil {
		errs = append(errs, err)
	}
	if err := engine.RemoveRunDir(lab); err != nil {
		errs = append(errs, err)
	}
	// With every node removed: a node that could not be has its own layer
	// there, which the next down removes with it.
	if removed {
		if err := engine.RemoveStateDir(lab); err != nil {
			errs = append(errs, err)
		}
	}
	if !keepCache && len(roots) > 0 {
		cache := rootfs.NewCache(rootfs.DefaultDir)
		for _, root := range roots {
			err := cache.Remove(ctx, "sha256:"+filepath.Base(root))
			switch {
			case err == nil:
				r.ImageRoots++
			case !errors.Is(err, rootfs.ErrInUse): // in use: another lab's node runs on it
				errs = append(errs, err)
			}
		}
	}
	// Last, so that an up that comes while down works waits: it takes a
	// lock file of its own once this one is gone.
	os.Remove(filepath.Join(engine.RunDir, "."+lab+".lock"))
	return r, errors.Join(errs...)
}

// imageRoots lists the cache entries the runc nodes in list were made on
// (their ImageRoot), each once.
func imageRoots(list []engine.Container) []string {
	var roots []string
	for _, c := range list {
		root := c.ImageRoot
		if root != "" && filepath.Dir(root) == rootfs.DefaultDir && !slices.Contains(roots, root) {
			roots = append(roots, root)
		}
	}
	return roots
}

// Labs lists the labs that have anything on this host: containers, host
// interfaces, an isolation table or a run directory.
func Labs(ctx context.Context, d engine.Runtime) ([]string, error) {
	seen := map[string]bool{}
	list, err := d.List(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		seen[c.Labels[naming.LabelLab]] = true
	}
	links, _ := wire.HostLinks("")
	for _, l := range links {
		seen[naming.LabOf(l.Attrs().Alias)] = true
	}
	isolated, _ := wire.IsolationTables("")
	for _, lab := range isolated {
		seen[lab] = true
	}
	dirs, _ := os.ReadDir(engine.RunDir)
	for _, e := range dirs {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") { // .runc: runc's state
			seen[e.Name()] = true
		}
	}
	for _, lab := range engine.StateLabs() { // left by a reboot, or a down that failed
		if naming.CheckName("lab", lab) == nil {
			seen[lab] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// IfaceState is an interface as seen inside a node.
type IfaceState struct {
	Name string `json:"name"`
	Up   bool   `json:"up"`
	// Carrier: the link beneath is up (false when the other end, or a
	// bridge port's host side, is down: a pulled cable).
	Carrier bool   `json:"carrier"`
	Impair  string `json:"impair,omitempty"` // "delay 100ms, loss 5%": the link runs through a relay
	// HostSide says what is wrong with a bridge port's host end: "down on
	// the host side", "detached from its bridge"; "" when nothing is.
	HostSide string `json:"host_side,omitempty"`
	// Missing: the lab put this interface in the node and it is gone
	// (deleted in the node, or its peer or host end was).
	Missing bool     `json:"missing,omitempty"`
	MAC     string   `json:"mac"`
	MTU     int      `json:"mtu"`
	Addrs   []string `json:"addrs"`
	DHCP    []string `json:"dhcp,omitempty"` // those of Addrs that a DHCP lease gave (IPv4 with a lifetime)
}

// NodeState is a node as seen on the host: its container and, when it
// runs, its interfaces and default routes.
type NodeState struct {
	Node       string       `json:"node"`
	Container  string       `json:"container"`
	Runtime    string       `json:"runtime"`
	State      string       `json:"state"`
	Ready      bool         `json:"ready"` // wired for its current namespace
	Interfaces []IfaceState `json:"interfaces"`
	Gateways   []string     `json:"gateways"`
	Published  []string     `json:"published"`
}

// Status reads the state of every node of the lab.
func Status(ctx context.Context, d engine.Runtime, lab string) ([]NodeState, error) {
	return status(ctx, d, lab, true)
}

// Live reads what a page shows of every node of the lab, as Status reads
// it: the node's state, whether it is wired, its interfaces' names, up,
// carrier, impairment and missing. The rest is left out (the interfaces'
// addresses and host sides, the gateways, the published ports: Addrs,
// Gateways and Published empty, HostSide ""): a page's state is read
// twice a second for every lab a page is open on, and in a class of 30
// those reads were half the server's CPU while the labs came up. It asks
// the lab's own runtime only: a runc lab's pages asked the Docker engine
// for the lab's containers at each read too (of a lab's runtime, see
// engine.Host.LabRuntime).
func Live(ctx context.Context, d engine.Runtime, lab string) ([]NodeState, error) {
	if h, ok := d.(labRuntimes); ok {
		r, err := h.LabRuntime(lab)
		if err != nil {
			return nil, err
		}
		d = r
	}
	return status(ctx, d, lab, false)
}

// labRuntimes tells which runtime runs a lab (engine.Host does).
type labRuntimes interface {
	LabRuntime(lab string) (engine.Runtime, error)
}

func status(ctx context.Context, d engine.Runtime, lab string, full bool) ([]NodeState, error) {
	list, err := d.List(ctx, lab)
	if err != nil {
		return nil, err
	}
	// Read once for the lab, not per node: the lab's run directory has an
	// entry per node, and a glob per node made status of 1,000 nodes slow.
	impaired := hostproc.RelayImpairments(lab)
	var published map[string][]string // node -> its forwarders' pid files
	if full {
		published = hostproc.Published(lab)
	}
	// The nodes are read 8 at a time (each one's namespace through netlink):
	// a lab of 1,000 nodes is read in a fraction of the time.
	out := make([]NodeState, len(list))
	inParallel(len(list), 8, func(i int) {
		out[i] = nodeStatus(ctx, d, lab, list[i], impaired, published[list[i].Node], full)
	})
	return out, nil
}

// inParallel calls f for 0 to n-1, at most parallel calls at a time, and
// returns when all have returned.
func inParallel(n, parallel int, f func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(parallel, 1))
	for i := range n {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			f(i)
		}()
	}
	wg.Wait()
}

// nodeStatus reads one node's state for Status.
func nodeStatus(ctx context.Context, d engine.Runtime, lab string, c engine.Container, impaired map[string]string, published []string, full bool) NodeState {
	st := NodeState{Node: c.Node, Container: c.Name, Runtime: c.Runtime, State: c.State, Interfaces: []IfaceState{}, Gateways: []string{}, Published: []string{}}
	n, err := d.Inspect(ctx, c.ID)
	if err == nil && (n.Pid > 0 || n.Remote) {
		ready, _ := os.ReadFile(filepath.Join(engine.RunDir, lab, c.Node, engine.ReadyFile))
		st.Ready = string(ready) == n.NetNS
		var ifs []wire.Iface
		if r := engine.AgentsOf(d, c.ID); r != nil && n.Remote {
			ifs, st.Gateways, _ = r.ReadRemote(ctx, c.ID) // unread: its interfaces show missing
		} else if ns, err := wire.OpenNS(n.Pid); err == nil {
			if full {
				ifs, st.Gateways = wire.ReadNS(ns)
			} else {
				ifs = wire.ReadLinks(ns)
			}
			ns.Close()
		}
		for _, i := range ifs {
			st.Interfaces = append(st.Interfaces, IfaceState{Name: i.Name, Up: i.Up, Carrier: i.Carrier, MAC: i.MAC, MTU: i.MTU, Addrs: i.Addrs, DHCP: i.DHCP})
		}
	}
	if st.Ready {
		for _, name := range engine.Interfaces(lab, c.Node) {
			if !slices.ContainsFunc(st.Interfaces, func(i IfaceState) bool { return i.Name == name }) {
				st.Interfaces = append(st.Interfaces, IfaceState{Name: name, Missing: true, Addrs: []string{}})
			}
		}
		sort.Slice(st.Interfaces, func(i, j int) bool { return st.Interfaces[i].Name < st.Interfaces[j].Name })
	}
	for k := range st.Interfaces {
		st.Interfaces[k].Impair = impaired[naming.Relay(lab, c.Node, st.Interfaces[k].Name)]
		if full {
			st.Interfaces[k].HostSide = hostSide(lab, c.Node, st.Interfaces[k].Name)
		}
	}
	for _, f := range published {
		if _, ok := hostproc.Running(f); ok {
			st.Published = append(st.Published, hostproc.PublishedAddr(f))
		}
	}
	return st
}

// hostSide checks the host end of a node interface's bridge port, if it
// has one (wire.HostLink, by name): netlab up repairs what this reports.
func hostSide(lab, node, iface string) string {
	l := wire.HostLink(lab, naming.Port(lab, node, iface))
	if l == nil {
		return ""
	}
	switch {
	case l.Attrs().MasterIndex == 0:
		return "detached from its bridge on the host"
	case l.Attrs().Flags&net.FlagUp == 0:
		return "down on the host side"
	}
	return ""
}
