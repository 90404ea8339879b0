package steps

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/netlab/netlab/converge"
	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
)

// create: a node's container, with no network of its own (--net=none); a
// container found before the run is kept (converge.Diff has up remove one
// whose configuration differs first).
var create = Kind{
	Describe: func(s *planner.Step) string {
		c := s.Container
		d := fmt.Sprintf("create container %s from %s", c.Name, c.Image)
		if n := len(c.Files); n > 0 {
			dirs := map[string]bool{}
			for f := range c.Files {
				dirs[path.Dir(f)] = true
			}
			d += fmt.Sprintf(", %s in %s", planner.Plural(n, "file"), strings.Join(slices.Sorted(maps.Keys(dirs)), " "))
		}
		if len(c.DHCP) > 0 {
			d += ", DHCP client on " + some(c.DHCP, " ")
		}
		if c.OtherCaps() {
			d += ", capabilities " + strings.Join(c.CapAdd, " ")
			if len(c.CapDrop) > 0 {
				d += " (dropped: " + strings.Join(c.CapDrop, " ") + ")"
			}
		}
		return d
	},
	Do: func(ctx context.Context, e *Executor, s *planner.Step) (bool, error) {
		e.mu.Lock()
		_, ok := e.existing[s.Node]
		e.mu.Unlock()
		if ok {
			return false, nil
		}
		_, err := e.createContainer(ctx, s)
		return err == nil, err
	},
	Owns: func(s *planner.Step) converge.Owned {
		return converge.Owned{Node: s.Container}
	},
}

// createContainer makes the step's node's container (the create step, or
// the start step when the container listed as the run began is gone) and
// records it as this run's.
func (e *Executor) createContainer(ctx context.Context, s *planner.Step) (engine.Container, error) {
	id, err := e.rt.Create(ctx, e.plan.Lab, s.Container, e.plan.Hosts, e.bins.Init)
	if err != nil {
		return engine.Container{}, err
	}
	c := engine.Container{ID: id, Name: s.Container.Name, Node: s.Node}
	e.mu.Lock()
	e.existing[s.Node] = c
	e.created[s.Node] = true
	e.mu.Unlock()
	return c, nil
}
