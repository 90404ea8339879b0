package lab

import (
	"context"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/runc"
)

// removeCgroupParents removes the cgroup that runc makes the nodes' under
// (netlab, in every hierarchy) once no runc node of any lab is left, and
// no up is under way that would make one.
func (m *Manager) removeCgroupParents(ctx context.Context) error {
	_, err := engine.WhenNoUp(func() error {
		list, err := m.host.List(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range list {
			if c.Runtime == engine.RuntimeRunc {
				return nil
			}
		}
		_, err = runc.RemoveCgroupParents()
		return err
	})
	return err
}
