package lab

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/faults"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/spec"
)

// Stdio is what Exec connects a command to.
type Stdio = engine.Stdio

// Shell is what Exec runs when no command is given: a login shell, bash
// where the image has it.
var Shell = []string{"/bin/sh", "-c", "command -v bash >/dev/null && exec bash -l || exec sh -l"}

// node finds the container of a lab's node, or a usage error that names
// the lab's nodes.
func (m *Manager) node(ctx context.Context, lab, node string) (engine.Container, error) {
	if err := naming.CheckName("lab", lab); err != nil {
		return engine.Container{}, usageError{err}
	}
	c, err := faults.Find(ctx, m.host, lab, node)
	return c, fromFaults(err)
}

// Exec runs argv (Shell if empty) on the node through its runtime (docker
// exec, runc exec) and returns its exit code.
func (m *Manager) Exec(ctx context.Context, lab, node string, argv []string, stdio Stdio) (int, error) {
	c, err := m.node(ctx, lab, node)
	if err != nil {
		return 0, err
	}
	if len(argv) == 0 {
		argv = Shell
	}
	return m.host.Exec(ctx, c.Name, argv, stdio)
}

// Logs copies a node's output (its command's, and netlab's init before
// it) to stdout and stderr: the last tail lines ("all": every line), and
// with follow what comes after, until ctx ends.
func (m *Manager) Logs(ctx context.Context, lab, node string, follow bool, tail string, stdout, stderr io.Writer) error {
	c, err := m.node(ctx, lab, node)
	if err != nil {
		return err
	}
	return m.host.Logs(ctx, c.ID, follow, tail, stdout, stderr)
}

// LinkResult says what Link changed, and where.
type LinkResult = faults.LinkResult

// Link sets a node's interface down (a pulled cable) or up again.
func (m *Manager) Link(ctx context.Context, lab, node, iface string, up bool) (LinkResult, error) {
	if err := naming.CheckName("lab", lab); err != nil {
		return LinkResult{}, usageError{err}
	}
	r, err := faults.SetLink(ctx, m.host, lab, node, iface, up)
	return r, fromFaults(err)
}

// Stop stops a node (a powered-off machine) while the lab runs.
func (m *Manager) Stop(ctx context.Context, lab, node string) error {
	if _, err := m.node(ctx, lab, node); err != nil {
		return err
	}
	// Under the lab's lock: a repair by the lab's watcher that had begun
	// (its plan made before the mark below, its observation after the
	// stop) would start the node again. A repair that comes after waits,
	// then sees the mark.
	unlock, err := m.lock(lab, "stop", nil)
	if err != nil {
		return err
	}
	defer unlock()
	// Marked first: the lab's watcher, which repairs a node that died,
	// must not see this one stop before it knows the stop was asked for.
	if err := engine.MarkStopped(lab, node, true); err != nil {
		return err
	}
	if err := faults.Stop(ctx, m.host, lab, node); err != nil {
		engine.MarkStopped(lab, node, false)
		return fromFaults(err)
	}
	return nil
}

// Start starts a stopped node and wires it again from the lab file it
// came from (an up of that file).
func (m *Manager) Start(ctx context.Context, lab, node string, progress Progress) error {
	if err := naming.CheckName("lab", lab); err != nil {
		return usageError{err}
	}
	if _, err := m.node(ctx, lab, node); err != nil {
		return err
	}
	if err := engine.MarkStopped(lab, node, false); err != nil {
		return err
	}
	file, err := faults.Start(ctx, m.host, lab, node)
	if err != nil {
		return fromFaults(err)
	}
	progress.note(lab, "started %s; wiring it", node)
	if _, err := os.Stat(file); file == "" || err != nil {
		return fmt.Errorf("node %s started, but the lab file it came from (%q) is gone: run netlab up FILE to wire it", node, file)
	}
	l, _, err := Load(file)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx, l, UpOptions{Progress: progress})
	return err
}

// Restart stops a node and starts it again, wired.
func (m *Manager) Restart(ctx context.Context, lab, node string, progress Progress) error {
	if err := m.Stop(ctx, lab, node); err != nil {
		return err
	}
	progress.note(lab, "stopped %s", node)
	return m.Start(ctx, lab, node, progress)
}

// Impairment is what Impair puts on a link, as the lab file writes it
// ("100ms", "5%", "1mbit"); all empty clears the link.
type Impairment struct {
	Delay, Jitter, Loss, Rate string
}

// Impair delays, jitters, loses or rate-limits the frames of the point-
// to-point link that ends at node:iface, without restarting its nodes,
// by bringing the lab up with the link so changed (netlab up restores
// what the file says). It returns the link as it is now.
func (m *Manager) Impair(ctx context.Context, lab, node, iface string, im Impairment, progress Progress) (*spec.Link, error) {
	c, err := m.node(ctx, lab, node)
	if err != nil {
		return nil, err
	}
	file := c.Labels[naming.LabelFile]
	l, _, err := Load(file)
	if err != nil {
		return nil, fmt.Errorf("lab file %s of lab %s: %w", file, lab, err)
	}
	var link *spec.Link
	for _, k := range l.Links {
		for _, e := range k.Endpoints {
			if e.Node == node && e.Interface == iface {
				link = k
			}
		}
	}
	if link == nil {
		return nil, usagef("%s:%s ends no point-to-point link of lab %s: impairments are for links (links: in the file)", node, iface, lab)
	}
	if err := link.SetImpairment(im.Delay, im.Jitter, im.Loss, im.Rate); err != nil {
		return nil, usageError{err}
	}
	if _, err := m.Up(ctx, l, UpOptions{Progress: progress}); err != nil {
		return nil, err
	}
	return link, nil
}
