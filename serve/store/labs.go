package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class is a course's group of students and the lab they each get.
type Class struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Source    string `json:"source"` // the bundled lab's name or the lab file it was made from
	Per       string `json:"per"`    // student or group
	Stage     string `json:"stage"`  // the stage the class is at ("": none)
	AllowHost bool   `json:"allow_host"`
	// Shared: one lab for the whole class; each student reaches the
	// nodes of their group (the nodes' group: in the lab file).
	Shared bool `json:"shared"`
}

// AddClass adds a class; ErrExists when the name is taken.
func (s *Store) AddClass(ctx context.Context, c Class) (Class, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO classes (name, source, per, stage, allow_host, shared, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Name, c.Source, c.Per, c.Stage, c.AllowHost, c.Shared, now())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return c, fmt.Errorf("class %s: %w", c.Name, ErrExists)
		}
		return c, fmt.Errorf("add class %s: %w", c.Name, err)
	}
	c.ID, err = res.LastInsertId()
	return c, err
}

// Classes lists the classes, by name.
func (s *Store) Classes(ctx context.Context) ([]Class, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, source, per, stage, allow_host, shared FROM classes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list classes: %w", err)
	}
	defer rows.Close()
	out := []Class{}
	for rows.Next() {
		var c Class
		if err := rows.Scan(&c.ID, &c.Name, &c.Source, &c.Per, &c.Stage, &c.AllowHost, &c.Shared); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClassByID finds a class.
func (s *Store) ClassByID(ctx context.Context, id int64) (Class, error) {
	var c Class
	err := s.db.QueryRowContext(ctx, `SELECT id, name, source, per, stage, allow_host, shared FROM classes WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &c.Source, &c.Per, &c.Stage, &c.AllowHost, &c.Shared)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("class %d: %w", id, ErrNotFound)
	}
	return c, err
}

// SetStage moves a class to a stage.
func (s *Store) SetStage(ctx context.Context, classID int64, stage string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE classes SET stage = ? WHERE id = ?`, stage, classID)
	return err
}

// AddMember puts a user in a class (in a group, for labs per group).
func (s *Store) AddMember(ctx context.Context, classID, userID int64, group string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO members (class_id, user_id, grp) VALUES (?, ?, ?)`, classID, userID, group)
	if err != nil {
		return fmt.Errorf("add user %d to class %d: %w", userID, classID, err)
	}
	return nil
}

// Lab is a lab of a class, owned by a student or by a group of the class.
type Lab struct {
	ID         string `json:"id"`
	Name       string `json:"name"` // the netlab lab's name
	ClassID    int64  `json:"class_id"`
	Class      string `json:"class"`
	OwnerUser  int64  `json:"-"`
	OwnerGroup string `json:"group,omitempty"`
	Owner      string `json:"owner"` // the student's name, or the group's
	Source     string `json:"source"`
	File       string `json:"-"`      // the lab file under the data directory
	Shared     bool   `json:"shared"` // the class's one lab, shared by all its students
}

// AddLab records a lab.
func (s *Store) AddLab(ctx context.Context, l Lab) error {
	var owner any
	if l.OwnerUser != 0 {
		owner = l.OwnerUser
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO labs (id, name, class_id, owner_user, owner_group, source, file, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.Name, l.ClassID, owner, l.OwnerGroup, l.Source, l.File, now())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("lab %s: %w", l.Name, ErrExists)
		}
		return fmt.Errorf("add lab %s: %w", l.Name, err)
	}
	return nil
}

const labQuery = `SELECT l.id, l.name, l.class_id, c.name, COALESCE(l.owner_user, 0), l.owner_group,
	CASE WHEN c.shared THEN 'the class' ELSE COALESCE(u.name, l.owner_group) END, l.source, l.file, c.shared
	FROM labs l JOIN classes c ON c.id = l.class_id LEFT JOIN users u ON u.id = l.owner_user `

func (s *Store) labs(ctx context.Context, where string, args ...any) ([]Lab, error) {
	rows, err := s.db.QueryContext(ctx, labQuery+where+` ORDER BY c.name, 7`, args...)
	if err != nil {
		return nil, fmt.Errorf("list labs: %w", err)
	}
	defer rows.Close()
	out := []Lab{}
	for rows.Next() {
		var l Lab
		if err := rows.Scan(&l.ID, &l.Name, &l.ClassID, &l.Class, &l.OwnerUser, &l.OwnerGroup, &l.Owner, &l.Source, &l.File, &l.Shared); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Labs lists every lab.
func (s *Store) Labs(ctx context.Context) ([]Lab, error) { return s.labs(ctx, "") }

// ClassLabs lists the labs of a class.
func (s *Store) ClassLabs(ctx context.Context, classID int64) ([]Lab, error) {
	return s.labs(ctx, "WHERE l.class_id = ?", classID)
}

// LabsOf lists the labs a student owns: their own, and their groups'.
func (s *Store) LabsOf(ctx context.Context, userID int64) ([]Lab, error) {
	return s.labs(ctx, `WHERE l.owner_user = ? OR (l.owner_group != '' AND EXISTS (
		SELECT 1 FROM members m WHERE m.class_id = l.class_id AND m.user_id = ? AND m.grp = l.owner_group))
		OR (c.shared AND EXISTS (SELECT 1 FROM members m WHERE m.class_id = l.class_id AND m.user_id = ?))`, userID, userID, userID)
}

// LabByID finds a lab.
func (s *Store) LabByID(ctx context.Context, id string) (Lab, error) {
	list, err := s.labs(ctx, "WHERE l.id = ?", id)
	if err != nil {
		return Lab{}, err
	}
	if len(list) == 0 {
		return Lab{}, fmt.Errorf("lab %s: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// Owns tells whether the user owns the lab (theirs, their group's, or
// their class's shared lab).
func (s *Store) Owns(ctx context.Context, userID int64, l Lab) (bool, error) {
	if l.Shared {
		_, err := s.GroupOf(ctx, l.ClassID, userID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if l.OwnerUser != 0 {
		return l.OwnerUser == userID, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE class_id = ? AND user_id = ? AND grp = ?`,
		l.ClassID, userID, l.OwnerGroup).Scan(&n)
	return n > 0, err
}

// Result is a check's result, as stored.
type Result struct {
	LabID  string    `json:"lab"`
	Run    int64     `json:"run"`
	Index  int       `json:"index"`
	Name   string    `json:"name"`
	Stage  string    `json:"stage,omitempty"`
	Passed bool      `json:"passed"`
	Detail string    `json:"detail"`
	Hint   string    `json:"hint,omitempty"`
	Tries  int       `json:"tries"`
	At     time.Time `json:"at"`
}

// AddResult stores a check's result.
func (s *Store) AddResult(ctx context.Context, r Result) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO results (lab_id, run, idx, name, stage, passed, detail, hint, tries, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.LabID, r.Run, r.Index, r.Name, r.Stage, r.Passed, r.Detail, r.Hint, r.Tries, r.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("store result of check %s of lab %s: %w", r.Name, r.LabID, err)
	}
	return nil
}

// Results gives a lab's results, oldest first (all of them: its
// progress over time).
func (s *Store) Results(ctx context.Context, labID string) ([]Result, error) {
	return s.results(ctx, `WHERE lab_id = ? ORDER BY at, idx`, labID)
}

// ClassResults gives the latest result of each check of each lab of a
// class.
func (s *Store) ClassResults(ctx context.Context, classID int64) ([]Result, error) {
	return s.results(ctx, `WHERE id IN (SELECT MAX(r.id) FROM results r JOIN labs l ON l.id = r.lab_id
		WHERE l.class_id = ? GROUP BY r.lab_id, r.name) ORDER BY lab_id, idx`, classID)
}

func (s *Store) results(ctx context.Context, where string, args ...any) ([]Result, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT lab_id, run, idx, name, stage, passed, detail, hint, tries, at FROM results `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer rows.Close()
	out := []Result{}
	for rows.Next() {
		var r Result
		var at int64
		if err := rows.Scan(&r.LabID, &r.Run, &r.Index, &r.Name, &r.Stage, &r.Passed, &r.Detail, &r.Hint, &r.Tries, &at); err != nil {
			return nil, err
		}
		r.At = time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// GroupOf is a member's group in a class; ErrNotFound when the user is
// not in the class.
func (s *Store) GroupOf(ctx context.Context, classID, userID int64) (string, error) {
	var g string
	err := s.db.QueryRowContext(ctx, `SELECT grp FROM members WHERE class_id = ? AND user_id = ?`, classID, userID).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("user %d in class %d: %w", userID, classID, ErrNotFound)
	}
	return g, err
}
