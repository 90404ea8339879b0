package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles of users.
const (
	Teacher = "teacher"
	Student = "student"
)

// User is a person who logs in.
type User struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	Email        string `json:"email,omitempty"`
	PasswordHash string `json:"-"`
}

// AddUser adds a user; ErrExists when the name is taken.
func (s *Store) AddUser(ctx context.Context, u User) (User, error) {
	if u.Role != Teacher && u.Role != Student {
		return u, fmt.Errorf("user %s: role %q is neither %s nor %s", u.Name, u.Role, Teacher, Student)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (name, role, email, password_hash, created) VALUES (?, ?, ?, ?, ?)`,
		u.Name, u.Role, u.Email, u.PasswordHash, now())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return u, fmt.Errorf("user %s: %w", u.Name, ErrExists)
		}
		return u, fmt.Errorf("add user %s: %w", u.Name, err)
	}
	u.ID, err = res.LastInsertId()
	return u, err
}

const userColumns = `id, name, role, email, password_hash`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Email, &u.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// UserByName finds a user by name.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return u, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// Users lists the users, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	return err
}

// SetLoginToken gives a user a one-time login token (its hash), valid
// until expires; it replaces any earlier one.
func (s *Store) SetLoginToken(ctx context.Context, userID int64, hash string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET login_token_hash = ?, login_token_expires = ? WHERE id = ?`,
		hash, expires.UnixMilli(), userID)
	return err
}

// UseLoginToken finds the user whose one-time login token has this hash
// and has not expired, and clears the token: it works once.
func (s *Store) UseLoginToken(ctx context.Context, hash string) (User, error) {
	if hash == "" {
		return User{}, ErrNotFound
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback()
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE login_token_hash = ? AND login_token_expires > ?`, hash, now()))
	if err != nil {
		return u, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET login_token_hash = '', login_token_expires = 0 WHERE id = ?`, u.ID); err != nil {
		return u, err
	}
	return u, tx.Commit()
}

// Session is a logged-in browser: its user and its CSRF token.
type Session struct {
	User    User
	CSRF    string
	Expires time.Time
}

// AddSession records a session by the hash of its id.
func (s *Store) AddSession(ctx context.Context, idHash string, userID int64, csrf string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, expires) VALUES (?, ?, ?, ?)`,
		idHash, userID, csrf, expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return nil
}

// SessionOf finds the unexpired session whose id has this hash.
func (s *Store) SessionOf(ctx context.Context, idHash string) (Session, error) {
	var ss Session
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.email, u.password_hash, s.csrf, s.expires
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires > ?`, idHash, now()).
		Scan(&ss.User.ID, &ss.User.Name, &ss.User.Role, &ss.User.Email, &ss.User.PasswordHash, &ss.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, ErrNotFound
	}
	ss.Expires = time.UnixMilli(exp)
	return ss, err
}

// DeleteSession ends a session (log out); expired ones go too.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ? OR expires <= ?`, idHash, now())
	return err
}
