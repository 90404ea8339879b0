package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Limits are what a class's teacher allows: per student, how many labs
// and nodes they run at once (counted over all their labs), and per node
// of the class's labs, the CPU, memory and processes it may use (its
// cgroups, as a lab file's resources). Zero is no limit.
type Limits struct {
	Labs   int     `json:"labs,omitempty"`   // labs a student runs at once
	Nodes  int     `json:"nodes,omitempty"`  // nodes a student runs at once, over their labs
	CPUs   float64 `json:"cpus,omitempty"`   // CPU time of each node, in CPUs
	Memory string  `json:"memory,omitempty"` // memory of each node: 256MiB
	Pids   int64   `json:"pids,omitempty"`   // processes of each node
}

// IsZero tells whether the limits limit nothing.
func (l Limits) IsZero() bool { return l == Limits{} }

// SetLimits sets a class's limits.
func (s *Store) SetLimits(ctx context.Context, classID int64, l Limits) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO class_limits (class_id, labs, nodes, cpus, memory, pids) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (class_id) DO UPDATE SET labs = excluded.labs, nodes = excluded.nodes, cpus = excluded.cpus,
		memory = excluded.memory, pids = excluded.pids`, classID, l.Labs, l.Nodes, l.CPUs, l.Memory, l.Pids)
	if err != nil {
		return fmt.Errorf("set the limits of class %d: %w", classID, err)
	}
	return nil
}

// ClassLimits reads a class's limits (none set: no limits).
func (s *Store) ClassLimits(ctx context.Context, classID int64) (Limits, error) {
	var l Limits
	err := s.db.QueryRowContext(ctx, `SELECT labs, nodes, cpus, memory, pids FROM class_limits WHERE class_id = ?`, classID).
		Scan(&l.Labs, &l.Nodes, &l.CPUs, &l.Memory, &l.Pids)
	if errors.Is(err, sql.ErrNoRows) {
		return Limits{}, nil
	}
	if err != nil {
		return l, fmt.Errorf("read the limits of class %d: %w", classID, err)
	}
	return l, nil
}
