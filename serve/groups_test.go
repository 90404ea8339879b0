package serve

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
)

// sharedLab is a small class-wide Internet: two groups (ASes 1 and 2),
// each a router and a host, joined by their routers.
const sharedLab = `name: net
defaults: {image: netlab/tiny}
nodes:
  r1: {group: "1", forward: true, interfaces: {eth0: {address: 10.0.0.1/30}, eth1: {network: as1}}}
  h1: {group: "1", interfaces: {eth0: {network: as1}}}
  r2: {group: "2", forward: true, interfaces: {eth0: {address: 10.0.0.2/30}, eth1: {network: as2}}}
  h2: {group: "2", interfaces: {eth0: {network: as2}}}
networks: {as1: {}, as2: {}}
links:
  - [r1:eth0, r2:eth0]
`

// sharedFixture adds to the fixture a shared class of c (group 1) and d
// (group 2); it returns the shared lab.
func (f *fixture) sharedClass(t *testing.T) store.Lab {
	t.Helper()
	ctx := context.Background()
	roster, _ := ParseRoster(strings.NewReader("name,group\nc,1\nd,2\n"))
	c, logins, err := CreateClass(ctx, f.st, t.TempDir(), ClassRequest{Name: "inet", LabData: []byte(sharedLab), Roster: roster, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Shared || len(logins) != 2 || logins[0].Lab != logins[1].Lab {
		t.Fatalf("a shared class: %+v, logins %+v: want one lab for both", c, logins)
	}
	for _, name := range []string{"c", "d"} {
		u, _ := f.st.UserByName(ctx, name)
		setPassword(t, f.st, u.ID, "password-"+name)
	}
	labs, _ := f.st.ClassLabs(ctx, c.ID)
	if len(labs) != 1 || !labs[0].Shared || labs[0].Owner != "the class" {
		t.Fatalf("the shared class's labs: %+v", labs)
	}
	return labs[0]
}

func TestSharedLabGroupsReachTheirOwnNodes(t *testing.T) {
	f := newFixture(t)
	shared := f.sharedClass(t)
	teach := f.teacher(t)
	c := f.login(t, "c", "password-c")
	a := f.login(t, "a", "password-a") // of another class
	base := "/api/labs/" + shared.ID

	var labs []store.Lab
	_, body := c.do("GET", "/api/labs", "")
	json.Unmarshal([]byte(body), &labs)
	if len(labs) != 1 || labs[0].ID != shared.ID {
		t.Errorf("c's labs: %s, want the shared lab", body)
	}
	code, body := c.do("GET", base, "")
	var d labDetail
	json.Unmarshal([]byte(body), &d)
	if code != 200 || d.Group != "1" || !d.Restricted || d.NodeGroups["r2"] != "2" {
		t.Errorf("c's view of the shared lab: %d group %q restricted %v groups %v", code, d.Group, d.Restricted, d.NodeGroups)
	}

	// c's group's nodes are hers; group 2's answer 404, and so does
	// everything that changes the shared lab as a whole.
	if conn, code := c.dial(base + "/nodes/r1/terminal"); code != 101 {
		t.Errorf("c opens a terminal on r1, of her group: %d", code)
	} else {
		conn.CloseNow()
	}
	if code, body := c.do("POST", base+"/nodes/h1/restart", ""); code != 200 {
		t.Errorf("c restarts h1, of her group: %d %s", code, body)
	}
	// d's terminal on r2 is not in c's list of the lab's terminals.
	dana := f.login(t, "d", "password-d")
	if conn, code := dana.dial(base + "/nodes/r2/terminal"); code == 101 {
		defer conn.CloseNow()
		send(t, conn, "dana here\n") // its echo: the shell runs (and the labs were asked for it)
		readUntil(t, conn, websocket.MessageBinary, "dana here")
	} else {
		t.Errorf("d opens a terminal on r2, of her group: %d", code)
	}
	if code, body := c.do("GET", base+"/terminals", ""); code != 200 || strings.Contains(body, `"node":"r2"`) {
		t.Errorf("c lists the shared lab's terminals: %d %s, want none of group 2's", code, body)
	}
	if code, body := teach.do("GET", base+"/terminals", ""); code != 200 || !strings.Contains(body, `"node":"r2"`) {
		t.Errorf("the teacher lists the shared lab's terminals: %d %s, want d's on r2", code, body)
	}
	denied := []struct{ method, path string }{
		{"GET", base + "/nodes/r2/terminal"},
		{"GET", base + "/nodes/h2/terminal"},
		{"POST", base + "/nodes/r2/stop"},
		{"POST", base + "/nodes/r2/interfaces/eth0/down"},
		{"GET", base + "/capture?target=r2:eth0"},
		{"GET", base + "/capture.pcap?target=h2:eth0"},
		{"GET", base + "/capture.pcap?target=as2"},
		{"GET", base + "/capture.pcap?target=as1"},
		{"POST", base + "/up"},
		{"POST", base + "/down"},
		{"POST", base + "/reset"},
	}
	before := len(f.labs.seen())
	for _, r := range denied {
		if code, body := c.do(r.method, r.path, ""); code != 404 {
			t.Errorf("c: %s %s = %d %s, want 404", r.method, r.path, code, body)
		}
	}
	if calls := f.labs.seen()[before:]; len(calls) != 0 {
		t.Errorf("c's refused requests reached the labs: %v", calls)
	}
	log, _ := f.st.AuditLog(context.Background(), 100)
	n := 0
	for _, e := range log {
		if e.User == "c" && strings.HasPrefix(e.Outcome, "denied") {
			n++
		}
	}
	if n != len(denied) {
		t.Errorf("%d of c's %d refusals audited", n, len(denied))
	}

	// Everyone in the class sees the matrix and any router's looking glass.
	for _, who := range []*client{c, teach} {
		if code, body := who.do("GET", base+"/matrix", ""); code != 200 || !strings.Contains(body, `"good":1`) {
			t.Errorf("the matrix: %d %s", code, body)
		}
		if code, body := who.do("GET", base+"/lg/r2?prefix=10.0.0.0/30", ""); code != 200 || !strings.Contains(body, `"router":"r2"`) {
			t.Errorf("r2's looking glass: %d %s", code, body)
		}
	}
	if code, _ := c.do("GET", base+"/lg/r9", ""); code != 404 {
		t.Errorf("the looking glass of no such router: %d, want 404", code)
	}
	if code, _ := c.do("GET", base+"/lg/r1?prefix=1.2.3.4%27%3Breboot", ""); code != 400 {
		t.Errorf("a looking glass of a bad prefix: %d, want 400", code)
	}
	// The teacher reaches every node and starts the lab; a student of
	// another class reaches nothing of it.
	if code, _ := teach.do("POST", base+"/nodes/r2/stop", ""); code != 200 {
		t.Errorf("the teacher stops r2: %d", code)
	}
	if code, _ := teach.do("POST", base+"/up", "{}"); code != 200 || !slices.Contains(f.labs.seen(), "up "+shared.Name) {
		t.Errorf("the teacher starts the shared lab: %d %v", code, f.labs.seen())
	}
	for _, p := range []string{base, base + "/matrix", base + "/lg/r1", base + "/nodes/r1/terminal"} {
		if code, _ := a.do("GET", p, ""); code != 404 {
			t.Errorf("a, of another class: GET %s = %d, want 404", p, code)
		}
	}
}

func TestSharedClassNeedsGroupsTheLabHas(t *testing.T) {
	ctx := context.Background()
	st, _ := store.Open(ctx, t.TempDir())
	defer st.Close()
	for _, c := range []struct{ roster, lab, want string }{
		{"name\nc\n", sharedLab, "give every student a group"},
		{"name,group\nc,3\n", sharedLab, "c is in group 3, and no node of the lab is (the lab's groups: 1, 2)"},
		{"name,group\nc,1\n", "name: x\nnodes: {a: {image: netlab/tiny}}\n", "no node of the lab has a group"},
	} {
		roster, _ := ParseRoster(strings.NewReader(c.roster))
		_, _, err := CreateClass(ctx, st, t.TempDir(), ClassRequest{Name: "inet", LabData: []byte(c.lab), Roster: roster, Shared: true})
		if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("roster %q: %v, want a usage error saying %q", c.roster, err, c.want)
		}
	}
}

func setPassword(t *testing.T, st *store.Store, id int64, password string) {
	t.Helper()
	h, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(context.Background(), id, h); err != nil {
		t.Fatal(err)
	}
}
