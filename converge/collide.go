package converge

import (
	"errors"
	"fmt"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// Existing is a container on the host, any lab's or none, with its labels.
type Existing struct {
	Name   string
	Labels map[string]string
}

// Collisions checks, before anything changes, that the plan can have the
// host: no lab of the same name runs from another file, and no planned
// container name is taken by a container that is not this lab's node of
// that name. Container names are "lab-node", readable but not unique by
// construction (lab "a-b" node "c" and lab "a" node "b-c" are both
// "a-b-c"): the clash is found here and named, instead of up failing
// half-way through.
func Collisions(p *planner.Plan, existing []Existing) error {
	var file string
	names := map[string]string{} // container name -> node
	for _, s := range p.Steps {
		if s.Kind == planner.KindCreate {
			names[s.Container.Name] = s.Node
			file = s.Container.Labels[naming.LabelFile]
		}
	}
	var errs []error
	for _, c := range existing {
		lab, other := c.Labels[naming.LabelLab], c.Labels[naming.LabelFile]
		if lab == p.Lab && file != "" && other != "" && other != file {
			return fmt.Errorf("lab %s is up from %s; bring it down first (netlab down %s) or rename it", p.Lab, other, p.Lab)
		}
	}
	for _, c := range existing {
		node, ok := names[c.Name]
		if !ok {
			continue
		}
		lab, other := c.Labels[naming.LabelLab], c.Labels[naming.LabelNode]
		switch {
		case lab == p.Lab && other == node:
		case lab == "":
			errs = append(errs, fmt.Errorf("container name %s of node %s is taken by a container netlab did not make: remove it (docker rm -f %s) or rename the lab", c.Name, node, c.Name))
		default:
			from := ""
			if f := c.Labels[naming.LabelFile]; f != "" {
				from = " from " + f
			}
			errs = append(errs, fmt.Errorf("container name %s of node %s is taken by node %s of lab %s%s: rename this lab or that one, or bring it down (netlab down %s)",
				c.Name, node, other, lab, from, lab))
		}
	}
	return errors.Join(errs...)
}
