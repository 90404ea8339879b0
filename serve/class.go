package serve

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/trust"
)

// ErrUsage marks errors in what a person asked (a bad roster, a class
// name taken, a lab that asks host access nobody allowed): the command
// line exits 2 for them, the API answers 400. It is the lab package's.
var ErrUsage = lab.ErrUsage

var usagef = lab.Usagef

// Member is a line of a class roster.
type Member struct {
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Email string `json:"email,omitempty"`
}

// userRe is what a user name may be: it becomes part of lab names.
var userRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// ParseRoster reads a class roster: CSV with a header row that has a
// name column and optionally group and email (in any order; other
// columns are ignored). Every problem is reported at once, by line.
func ParseRoster(r io.Reader) ([]Member, error) {
	cr := csv.NewReader(io.LimitReader(r, 1<<20))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, usagef("roster: %v", err)
	}
	if len(rows) == 0 {
		return nil, usagef("roster: empty; the first row names the columns: name[,group][,email]")
	}
	col := map[string]int{"name": -1, "group": -1, "email": -1}
	for i, h := range rows[0] {
		if _, ok := col[strings.ToLower(strings.TrimSpace(h))]; ok {
			col[strings.ToLower(strings.TrimSpace(h))] = i
		}
	}
	if col["name"] < 0 {
		return nil, usagef("roster: the header row %q has no name column (the columns: name[,group][,email])", strings.Join(rows[0], ","))
	}
	field := func(row []string, c string) string {
		if i := col[c]; i >= 0 && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var out []Member
	var problems []error
	seen := map[string]int{}
	for n, row := range rows[1:] {
		line := n + 2
		m := Member{Name: field(row, "name"), Group: field(row, "group"), Email: field(row, "email")}
		switch {
		case m.Name == "" && strings.Join(row, "") == "":
			continue // a blank line
		case !userRe.MatchString(m.Name):
			problems = append(problems, usagef("roster line %d: %q is not a user name: 1 to 63 letters, digits, '.', '_' and '-', starting with a letter or digit", line, m.Name))
		case seen[m.Name] != 0:
			problems = append(problems, usagef("roster line %d: %s is on line %d already", line, m.Name, seen[m.Name]))
		}
		seen[m.Name] = line
		out = append(out, m)
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = append(problems, usagef("roster: no students, only a header row"))
	}
	return out, errors.Join(problems...)
}

// LabName is the netlab lab name of a class's lab for owner (a student or
// a group): class, owner and a short id, in netlab's lab-name grammar (1
// to 63 letters, digits and '-'), unique by the id.
func LabName(class, owner, id string) string {
	return part(class, 24) + "-" + part(owner, 24) + "-" + id
}

// part makes s a piece of a lab name: lower case, other characters '-',
// at most n bytes, no '-' at either end.
func part(s string, n int) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	out := strings.Trim(string(b), "-")
	if len(out) > n {
		out = strings.Trim(out[:n], "-")
	}
	if out == "" {
		out = "x"
	}
	return out
}

// newID is a lab's id: 6 random hex digits.
func newID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ClassRequest is a class to make.
type ClassRequest struct {
	Name string
	// Lab is a bundled lab's name or a lab file's path; LabData, if set,
	// is the lab file's content instead (from the teacher's page).
	Lab      string
	LabData  []byte
	Roster   []Member
	PerGroup bool
	// Shared makes one lab for the whole class: each student reaches the
	// nodes of their group (a node's group: in the lab file), and
	// everyone the matrix and the looking glass.
	Shared bool
	// AllowHost is the teacher's consent to what the lab asks of the host
	// (netlab class create --allow-host); students can never give it.
	AllowHost bool
	// Limits are the teacher's limits on the class (none: zero).
	Limits store.Limits
}

// Login is how a student of a new class first logs in.
type Login struct {
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Lab   string `json:"lab"`   // the netlab lab's name
	Token string `json:"token"` // a one-time login token; LoginLink makes it a link
}

// LoginLink is the link that logs a user in once with token.
func LoginLink(base, token string) string {
	return strings.TrimSuffix(base, "/") + "/#login=" + token
}

// LoginTokenLife is how long a one-time login link works.
const LoginTokenLife = 7 * 24 * time.Hour

// CreateClass makes a class: a lab file per student (or per group) under
// dataDir, named for the class and its owner, the students' accounts
// (those new get a one-time login token), and the labs' records. Nothing
// is brought up: each student starts their lab from their page.
func CreateClass(ctx context.Context, st *store.Store, dataDir string, req ClassRequest) (store.Class, []Login, error) {
	if err := naming.CheckName("class", req.Name); err != nil || len(req.Name) > 24 {
		return store.Class{}, nil, usagef("%q is not a class name: 1 to 24 letters, digits and '-', not starting or ending with '-'", req.Name)
	}
	data, source, err := labSource(req.Lab, req.LabData)
	if err != nil {
		return store.Class{}, nil, err
	}
	src := labFiles{}
	if req.LabData == nil && lab.IsPath(req.Lab) {
		src.dir, src.name = filepath.Dir(source), filepath.Base(source)
		if src.files, err = scanLabDir(src.dir, src.name); err != nil {
			return store.Class{}, nil, err
		}
	}
	owners, err := owners(req.Roster, req.PerGroup || req.Shared)
	if err != nil {
		return store.Class{}, nil, err
	}
	if req.Shared {
		if req.PerGroup {
			return store.Class{}, nil, usagef("a class has a lab per group or one shared lab, not both")
		}
		if err := checkGroups(data, req.Roster); err != nil {
			return store.Class{}, nil, err
		}
		owners = []string{sharedOwner}
	}
	if err := CheckLimits(req.Limits); err != nil {
		return store.Class{}, nil, err
	}
	// Check the lab once, as it will run (renamed, under dataDir).
	_, nodes, err := writeLab(dataDir, LabName(req.Name, "check", "000000"), data, src, req.AllowHost, true, req.Limits)
	if err != nil {
		return store.Class{}, nil, err
	}
	if req.Limits.Nodes > 0 && nodes > req.Limits.Nodes {
		return store.Class{}, nil, usagef("the lab has %d nodes, more than the %d a student may run at once: raise the nodes limit or choose a smaller lab", nodes, req.Limits.Nodes)
	}
	per := "student"
	if req.PerGroup || req.Shared {
		per = "group"
	}
	c, err := st.AddClass(ctx, store.Class{Name: req.Name, Source: source, Per: per, AllowHost: req.AllowHost, Shared: req.Shared})
	if errors.Is(err, store.ErrExists) {
		return c, nil, usagef("class %s exists already: choose another name", req.Name)
	}
	if err != nil {
		return c, nil, err
	}
	if !req.Limits.IsZero() {
		if err := st.SetLimits(ctx, c.ID, req.Limits); err != nil {
			return c, nil, err
		}
	}
	labOf := map[string]string{} // owner -> lab name
	for _, o := range owners {
		id := newID()
		name := LabName(req.Name, o, id)
		file, _, err := writeLab(dataDir, name, data, src, req.AllowHost, false, req.Limits)
		if err != nil {
			return c, nil, err
		}
		l := store.Lab{ID: id, Name: name, ClassID: c.ID, Source: source, File: file}
		if req.PerGroup {
			l.OwnerGroup = o
		} else if u, err := st.UserByName(ctx, o); err == nil && !req.Shared {
			l.OwnerUser = u.ID // a shared lab has no owner but its class
		}
		if l.OwnerUser == 0 && !req.PerGroup && !req.Shared {
			u, err := st.AddUser(ctx, store.User{Name: o, Role: store.Student, Email: emailOf(req.Roster, o)})
			if err != nil {
				return c, nil, err
			}
			l.OwnerUser = u.ID
		}
		if err := st.AddLab(ctx, l); err != nil {
			return c, nil, err
		}
		labOf[o] = name
	}
	list, err := logins(ctx, st, c, req, labOf)
	return c, list, err
}

// logins adds the roster to the class (making the accounts that do not
// exist) and gives each student a one-time login token.
func logins(ctx context.Context, st *store.Store, c store.Class, req ClassRequest, labOf map[string]string) ([]Login, error) {
	var out []Login
	for _, m := range req.Roster {
		u, err := st.UserByName(ctx, m.Name)
		if errors.Is(err, store.ErrNotFound) {
			u, err = st.AddUser(ctx, store.User{Name: m.Name, Role: store.Student, Email: m.Email})
		}
		if err != nil {
			return out, err
		}
		if u.Role != store.Student {
			return out, usagef("roster: %s is a %s, not a student", m.Name, u.Role)
		}
		if err := st.AddMember(ctx, c.ID, u.ID, m.Group); err != nil {
			return out, err
		}
		token := auth.NewToken()
		if err := st.SetLoginToken(ctx, u.ID, auth.HashToken(token), time.Now().Add(LoginTokenLife)); err != nil {
			return out, err
		}
		owner := m.Name
		if req.PerGroup {
			owner = m.Group
		}
		if req.Shared {
			owner = sharedOwner
		}
		out = append(out, Login{Name: m.Name, Group: m.Group, Lab: labOf[owner], Token: token})
	}
	return out, nil
}

func emailOf(roster []Member, name string) string {
	for _, m := range roster {
		if m.Name == name {
			return m.Email
		}
	}
	return ""
}

// owners are the labs' owners: each student, or each group.
func owners(roster []Member, perGroup bool) ([]string, error) {
	var out []string
	for _, m := range roster {
		o := m.Name
		if perGroup {
			if m.Group == "" {
				return nil, usagef("roster: %s has no group, and the class has a lab per group: give every student a group", m.Name)
			}
			o = m.Group
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// labSource reads the lab a class is made from: data if given, else a
// lab file at path, else the bundled lab of that name.
func labSource(path string, data []byte) ([]byte, string, error) {
	if data != nil {
		return data, "uploaded lab file", nil
	}
	if lab.IsPath(path) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", usagef("lab file %s: %v", path, err)
		}
		abs, _ := filepath.Abs(path)
		return b, abs, nil
	}
	l, _, err := lab.Load(path) // a bundled lab, or a usage error saying what exists
	if err != nil {
		return nil, "", lab.Usage(err)
	}
	return l.Data, path, nil
}

// labFiles are the lab file's folder and what is beside it, to copy.
type labFiles struct {
	dir, name string // the folder, and the lab file's name in it
	files     []labDirFile
}

// writeLab writes the lab file of a class's lab: data with its name set
// to name, as dataDir/labs/NAME/lab.yaml (or under the lab file's own
// name, beside a copy of what was beside it), with the class's limits
// applied (the file as given kept beside it as sourceFile); it returns the
// lab file's path and how many nodes the lab has. It refuses a lab that
// asks the host for access unless allowHost; probe removes the folder
// after checking it.
func writeLab(dataDir, name string, data []byte, src labFiles, allowHost, probe bool, lim store.Limits) (string, int, error) {
	renamed, err := rename(data, name)
	if err != nil {
		return "", 0, usagef("lab file: %v", err)
	}
	// A folder per lab: what the file reaches beside it (volumes, the
	// lab's own folder) is its own, not the other labs' files.
	dir := filepath.Join(dataDir, "labs", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("make %s: %w", dir, err)
	}
	file := filepath.Join(dir, "lab.yaml")
	if src.dir != "" {
		os.RemoveAll(dir) // a folder left by an earlier failed try
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", 0, fmt.Errorf("make %s: %w", dir, err)
		}
		if err := copyLabDir(src.dir, dir, src.files); err != nil {
			os.RemoveAll(dir)
			return "", 0, err
		}
		file = filepath.Join(dir, src.name)
	}
	if err := os.WriteFile(filepath.Join(dir, sourceFile), renamed, 0o644); err != nil {
		return "", 0, fmt.Errorf("write lab file %s: %w", file, err)
	}
	if probe {
		defer os.RemoveAll(dir)
	}
	if err := limitLab(file, lim); err != nil {
		os.RemoveAll(dir)
		return "", 0, err
	}
	l, err := spec.Load(file)
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, lab.Usage(err)
	}
	if reqs := trust.Requests(l); len(reqs) > 0 && !allowHost {
		os.RemoveAll(dir)
		var lines []string
		for _, r := range reqs {
			lines = append(lines, "  "+r.Text)
		}
		return "", 0, usagef("the lab asks for access to the host beyond its own nodes:\n%s\nstudents cannot allow it; if you trust the lab, create the class with --allow-host", strings.Join(lines, "\n"))
	}
	return file, len(l.Nodes), nil
}

// rename sets the top-level name: of a lab file, keeping the rest (its
// comments too).
func rename(data []byte, name string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a lab file: its top level is not a mapping")
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "name" {
			m.Content[i+1].Value = name
			m.Content[i+1].Tag = "!!str"
			m.Content[i+1].Style = 0
			return yaml.Marshal(&doc)
		}
	}
	m.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Value: "name"}, {Kind: yaml.ScalarNode, Value: name}}, m.Content...)
	return yaml.Marshal(&doc)
}

// IsUsage tells whether err comes from what a person asked.
func IsUsage(err error) bool { return errors.Is(err, ErrUsage) || lab.IsUsage(err) }

// NewLoginLink gives a user a new one-time login link (any earlier one
// stops working).
func NewLoginLink(ctx context.Context, st *store.Store, u store.User, base string) (string, error) {
	token := auth.NewToken()
	if err := st.SetLoginToken(ctx, u.ID, auth.HashToken(token), time.Now().Add(LoginTokenLife)); err != nil {
		return "", err
	}
	return LoginLink(base, token), nil
}
