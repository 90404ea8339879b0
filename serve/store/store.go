// Package store keeps the class server's state in an embedded SQLite
// database (pure Go, no cgo): users, classes and their members, labs and
// their owners, sessions, every check result with its time, and an audit
// log. The schema is migrated in code when the database opens.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNotFound says that a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists says that a row with that name exists already.
var ErrExists = errors.New("exists already")

// Store is the server's database. It is safe for concurrent use.
type Store struct{ db *sql.DB }

// File is the database's file name under the server's data directory.
const File = "serve.db"

// Open opens (making it if need be) the database in dir and migrates its
// schema to this version's.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := BuiltIn(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, File)
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrations are the schema's versions: migration i brings the database
// from version i to i+1. Append; never change one that has shipped.
var migrations = []string{
	`CREATE TABLE users (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		role TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
		email TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT '',
		login_token_hash TEXT NOT NULL DEFAULT '',
		login_token_expires INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL
	);
	CREATE TABLE classes (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		source TEXT NOT NULL,
		per TEXT NOT NULL CHECK (per IN ('student', 'group')),
		stage TEXT NOT NULL DEFAULT '',
		allow_host INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL
	);
	CREATE TABLE members (
		class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
		user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		grp TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (class_id, user_id)
	);
	CREATE TABLE labs (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
		owner_user INTEGER REFERENCES users(id) ON DELETE CASCADE,
		owner_group TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL,
		file TEXT NOT NULL,
		created INTEGER NOT NULL
	);
	CREATE TABLE sessions (
		id_hash TEXT PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		csrf TEXT NOT NULL,
		expires INTEGER NOT NULL
	);
	CREATE TABLE results (
		id INTEGER PRIMARY KEY,
		lab_id TEXT NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
		run INTEGER NOT NULL,
		idx INTEGER NOT NULL,
		name TEXT NOT NULL,
		stage TEXT NOT NULL DEFAULT '',
		passed INTEGER NOT NULL,
		detail TEXT NOT NULL DEFAULT '',
		hint TEXT NOT NULL DEFAULT '',
		tries INTEGER NOT NULL DEFAULT 0,
		at INTEGER NOT NULL
	);
	CREATE INDEX results_lab ON results(lab_id, name, at);
	CREATE TABLE audit (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		user_name TEXT NOT NULL DEFAULT '',
		client TEXT NOT NULL DEFAULT '',
		action TEXT NOT NULL,
		object TEXT NOT NULL DEFAULT '',
		outcome TEXT NOT NULL
	);`,
	// A class may share one lab among all its students (groups reach
	// their own nodes of it).
	`ALTER TABLE classes ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;`,
	// A class's limits (limits.go).
	`CREATE TABLE class_limits (
		class_id INTEGER PRIMARY KEY REFERENCES classes(id) ON DELETE CASCADE,
		labs INTEGER NOT NULL DEFAULT 0,
		nodes INTEGER NOT NULL DEFAULT 0,
		cpus REAL NOT NULL DEFAULT 0,
		memory TEXT NOT NULL DEFAULT '',
		pids INTEGER NOT NULL DEFAULT 0
	);`,
	// The nodes a lab of the class may have.
	`ALTER TABLE class_limits ADD COLUMN lab_nodes INTEGER NOT NULL DEFAULT 0;`,
}

// migrate applies the migrations the database has not had yet, each in a
// transaction with the version it reaches (PRAGMA user_version).
func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this netlab's %d: run the newer netlab", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

// now is the time rows record, in Unix milliseconds.
func now() int64 { return time.Now().UnixMilli() }

// AuditEntry is a line of the audit log.
type AuditEntry struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Client  string    `json:"client"`
	Action  string    `json:"action"`
	Object  string    `json:"object"`
	Outcome string    `json:"outcome"`
}

// Audit writes an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit (at, user_name, client, action, object, outcome) VALUES (?, ?, ?, ?, ?, ?)`,
		now(), e.User, e.Client, e.Action, e.Object, e.Outcome)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditLog gives the last n entries of the audit log, newest first.
func (s *Store) AuditLog(ctx context.Context, n int) ([]AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, user_name, client, action, object, outcome FROM audit ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.User, &e.Client, &e.Action, &e.Object, &e.Outcome); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
