package serve

import (
	"context"
	"os"

	"github.com/netlab/netlab/serve/store"
)

// What the command line does to the server's data, in the directory the
// server keeps it in (its --data), whether the server runs or not.

// NewUser is a user added to the server's data: the user and their
// initial password, or their one-time login link.
type NewUser struct {
	store.User
	Password string
	Link     string // with a link, the password is not given
}

// AddUserIn adds a user to the server's data in dataDir (AddUser); with
// link, the user gets a one-time login link for base instead of the
// password, which nobody learns.
func AddUserIn(ctx context.Context, dataDir, name, role, email string, link bool, base string) (NewUser, error) {
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return NewUser{}, err
	}
	defer st.Close()
	u, password, err := AddUser(ctx, st, name, role, email)
	if err != nil || !link {
		return NewUser{User: u, Password: password}, err
	}
	l, err := NewLoginLink(ctx, st, u, base)
	return NewUser{User: u, Link: l}, err
}

// CreateClassIn makes a class (CreateClass) in the server's data in
// dataDir, its roster read from rosterFile (ParseRoster).
func CreateClassIn(ctx context.Context, dataDir, rosterFile string, req ClassRequest) (store.Class, []Login, error) {
	f, err := os.Open(rosterFile)
	if err != nil {
		return store.Class{}, nil, usagef("roster: %v", err)
	}
	defer f.Close()
	if req.Roster, err = ParseRoster(f); err != nil {
		return store.Class{}, nil, err
	}
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return store.Class{}, nil, err
	}
	defer st.Close()
	return CreateClass(ctx, st, dataDir, req)
}

// ClassLimitsIn sets the limits of the class named name in the server's
// data folder, when set is not nil, and returns them (netlab class
// limits).
func ClassLimitsIn(ctx context.Context, dataDir, name string, set *store.Limits) (store.Limits, error) {
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return store.Limits{}, err
	}
	defer st.Close()
	classes, err := st.Classes(ctx)
	if err != nil {
		return store.Limits{}, err
	}
	for _, c := range classes {
		if c.Name != name {
			continue
		}
		if set != nil {
			if err := SetClassLimits(ctx, st, c.ID, *set); err != nil {
				return store.Limits{}, err
			}
		}
		return st.ClassLimits(ctx, c.ID)
	}
	return store.Limits{}, usagef("no class %s in %s (netlab class create makes one)", name, dataDir)
}
