package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/netlab/netlab/apply"
	"github.com/netlab/netlab/capture"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/provider"
	"github.com/netlab/netlab/wire"
)

// Watch is a lab's watcher (netlab up starts one per lab, as a process
// of its own): until ctx ends it follows the lab's runtime for nodes that
// start again (a docker restart, a killed runc node brought back) and
// repairs the lab in-process with an up of its file, which rewires the
// nodes and releases their commands. It logs to the standard logger.
// Each repair reaches the runtimes afresh: the engine may have restarted
// since the last. A repair that failed is tried again a few times, unless
// the file no longer loads or a node ended at start (provider.FinalError).
func Watch(ctx context.Context, lab, file, pidFile string) error {
	repair := func(ctx context.Context) error {
		l, _, err := Load(file)
		if err != nil {
			return &provider.FinalError{Err: err}
		}
		m, err := Open(ctx, Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		var made remade
		_, err = m.Up(ctx, l, UpOptions{NoWatch: true, Repair: true, Progress: func(e Event) { logEvent(e); made.event(e) }})
		if died := (*DiedError)(nil); errors.As(err, &died) {
			return &provider.FinalError{Err: err}
		}
		if ends := made.ends(); err == nil && len(ends) > 0 {
			go readdress(ctx, l.Name, ends) // beside the next repairs, which it must not hold up
		}
		return err
	}
	return provider.Watch(ctx, lab, file, pidFile, repair)
}

// RunWatcher is the watcher's process (netlab _watch, which up starts):
// it reads the command line up gave it and runs Watch.
func RunWatcher(ctx context.Context, args []string) error {
	lab, file, pidFile, err := provider.WatchArgs(args)
	if err != nil {
		return usageError{err}
	}
	if err := Watch(ctx, lab, file, pidFile); err != nil {
		return fmt.Errorf("netlab watch %s: %w", lab, err)
	}
	return nil
}

// logEvent writes what a person would read of an up to the log: notes,
// warnings and failed steps.
func logEvent(e Event) {
	switch {
	case e.Kind == EventStep && e.Outcome == apply.Failed:
		log.Printf("FAILED %s: %v", e.StepID, e.Err)
	case e.Kind != EventStep:
		log.Print(e.Message)
	}
}

// Capture reads the frames of a node's interface or of a lab network's
// bridge, as pcap or a line per packet (opts says which and where), until
// ctx ends or opts' count or duration is reached.
func (m *Manager) Capture(ctx context.Context, opts capture.Options, stdout, stderr io.Writer) error {
	if err := NeedRoot("capture"); err != nil {
		return err
	}
	return capture.Run(ctx, m.host, opts, stdout, stderr)
}

// remade follows a repair's steps for the link ends it made again in
// nodes whose command kept running: their peers restarted.
type remade struct {
	mu       sync.Mutex
	links    []planner.VethEnd
	addrs    map[planner.VethEnd]*planner.Addr
	routes   map[string][]*planner.Route // by node
	released map[string]bool
}

func (r *remade) event(e Event) {
	if e.Kind != EventStep || e.Step == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := e.Step
	switch {
	case s.Kind == planner.KindLink && e.Outcome == apply.Changed && s.Veth != nil:
		r.links = append(r.links, s.Veth.A, s.Veth.B)
	case s.Kind == planner.KindReady && e.Outcome == apply.Changed:
		if r.released == nil {
			r.released = map[string]bool{}
		}
		r.released[s.Node] = true
	case s.Kind == planner.KindAddr && s.Addr != nil && len(s.Addr.Addrs) > 0:
		if r.addrs == nil {
			r.addrs = map[planner.VethEnd]*planner.Addr{}
		}
		r.addrs[planner.VethEnd{Node: s.Node, Name: s.Addr.Iface}] = s.Addr
	case s.Kind == planner.KindRoute && s.Route != nil:
		if r.routes == nil {
			r.routes = map[string][]*planner.Route{}
		}
		r.routes[s.Node] = append(r.routes[s.Node], s.Route)
	}
}

// readdressed is what a node has given again: its interfaces' addresses,
// then its routes, which go with them.
type readdressed struct {
	addrs  []*planner.Addr
	routes []*planner.Route
}

// ends are the link ends made again in nodes the repair did not release,
// with their addresses, and those nodes' routes.
func (r *remade) ends() map[string]*readdressed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*readdressed{}
	for _, end := range r.links {
		a := r.addrs[planner.VethEnd{Node: end.Node, Name: end.Name}]
		if a == nil || r.released[end.Node] {
			continue
		}
		if out[end.Node] == nil {
			out[end.Node] = &readdressed{routes: r.routes[end.Node]}
		}
		out[end.Node].addrs = append(out[end.Node].addrs, a)
	}
	return out
}

// readdressAfter is when, after a repair, the interfaces it made again in
// running nodes get their addresses again: once the nodes' routing
// daemons have read the old interface's deletion, on a busy machine too.
var readdressAfter = []time.Duration{time.Second, 4 * time.Second, 10 * time.Second}

// readdress gives the interfaces a repair made again in nodes whose
// command kept running their addresses afresh, a few times (readdressAfter):
// FRR 8.4 (netlab/router) loses an interface's OSPF when its deletion and
// the new interface of the same name reach zebra together (a busy
// machine, a peer's restart rewired at once), and an address given again
// brings it back. The node's routes from the file, which went with the
// addresses, are put back at once.
func readdress(ctx context.Context, lab string, ends map[string]*readdressed) {
	m, err := Open(ctx, Options{})
	if err != nil {
		log.Printf("give interfaces their addresses again: %v", err)
		return
	}
	defer m.Close()
	nodes := provider.NewLabNodes(m.host, lab)
	for _, d := range readdressAfter {
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		for _, node := range slices.Sorted(maps.Keys(ends)) {
			ns, err := nodes.OpenNS(ctx, node)
			if err != nil {
				log.Printf("give %s's interfaces their addresses again: %v", node, err)
				continue
			}
			for _, a := range ends[node].addrs {
				if err := wire.Readdress(ns, a); err != nil {
					log.Printf("give %s:%s its addresses again: %v", node, a.Iface, err)
					continue
				}
				log.Printf("gave %s:%s its addresses again (its peer was made again)", node, a.Iface)
			}
			for _, r := range ends[node].routes {
				if _, err := wire.EnsureRoute(ns, r); err != nil {
					log.Printf("route of %s again: %v", node, err)
				}
			}
			ns.Close()
		}
	}
}
