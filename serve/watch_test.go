package serve

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/netlab/netlab/serve/auth"
	"github.com/netlab/netlab/serve/store"
)

// teacher adds a teacher to the fixture and logs them in.
func (f *fixture) teacher(t *testing.T) *client {
	t.Helper()
	ctx := context.Background()
	h, _ := auth.HashPassword("password-teach")
	if _, err := f.st.AddUser(ctx, store.User{Name: "teach", Role: store.Teacher, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	return f.login(t, "teach", "password-teach")
}

// dial opens a websocket of the server as c.
func (c *client) dial(path string) (*websocket.Conn, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+path, &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		c.t.Fatalf("dial %s: %v", path, err)
	}
	return conn, 101
}

// readUntil reads c's messages until one of type typ contains want; it
// returns what it read of that type.
func readUntil(t *testing.T, c *websocket.Conn, typ websocket.MessageType, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got strings.Builder
	for {
		mt, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v (read so far: %q)", want, err, got.String())
		}
		if mt == typ {
			got.Write(data)
			if strings.Contains(got.String(), want) {
				return got.String()
			}
		}
	}
}

func send(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageBinary, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestTeacherWatchesAndTakesOverATerminal(t *testing.T) {
	f := newFixture(t)
	teach := f.teacher(t)
	a := f.login(t, "a", "password-a")
	b := f.login(t, "b", "password-b")
	labA := "/api/labs/" + f.labA.ID

	term, code := a.dial(labA + "/nodes/a/terminal")
	if code != 101 {
		t.Fatalf("a opens a terminal on her node a: %d", code)
	}
	defer term.CloseNow()
	send(t, term, "first line\n")
	readUntil(t, term, websocket.MessageBinary, "first line")

	var list []termInfo
	code, body := teach.do("GET", "/api/classes/1/terminals", "")
	json.Unmarshal([]byte(body), &list)
	if code != 200 || len(list) != 1 || list[0].Node != "a" || list[0].User != "a" || list[0].LabID != f.labA.ID {
		t.Fatalf("the teacher lists the class's terminals: %d %s", code, body)
	}
	id := list[0].ID

	// Nobody but a teacher watches: not another student, not the lab's
	// owner herself, not through another lab; each answers 404, audited.
	for _, try := range []struct {
		who  *client
		name string
		path string
	}{
		{b, "b", labA + "/terminals/" + id + "/watch"},
		{b, "b", labA + "/terminals/" + id + "/take"},
		{b, "b", labA + "/terminals"},
		{a, "a", labA + "/terminals/" + id + "/watch"},
		{a, "a", labA + "/terminals/" + id + "/take"},
		{teach, "teach", "/api/labs/" + f.labB.ID + "/terminals/" + id + "/watch"},
		{teach, "teach", labA + "/terminals/nosuch/take"},
	} {
		if c, code := try.who.dial(try.path); code != 404 {
			if c != nil {
				c.CloseNow()
			}
			t.Errorf("%s opens %s: %d, want 404", try.name, try.path, code)
		}
	}
	if code, _ := a.do("GET", "/api/classes/1/terminals", ""); code != 404 {
		t.Errorf("a lists the class's terminals: %d, want 404", code)
	}
	if code, body := a.do("GET", labA+"/terminals", ""); code != 200 || !strings.Contains(body, id) {
		t.Errorf("a lists her lab's terminals: %d %s", code, body)
	}

	// The teacher watches: she gets the screen so far and what follows;
	// what she types goes nowhere; a is told she is watched.
	watch, code := teach.dial(labA + "/terminals/" + id + "/watch")
	if code != 101 {
		t.Fatalf("the teacher watches: %d", code)
	}
	defer watch.CloseNow()
	readUntil(t, watch, websocket.MessageBinary, "first line")
	readUntil(t, term, websocket.MessageText, `"watchers":["teach"]`)
	send(t, term, "second line\n")
	readUntil(t, watch, websocket.MessageBinary, "second line")
	send(t, watch, "from the watcher\n")
	send(t, term, "third line\n")
	if got := readUntil(t, term, websocket.MessageBinary, "third line"); strings.Contains(got, "from the watcher") {
		t.Errorf("a watcher's keys reached the terminal: %q", got)
	}

	// The teacher takes over: her keys go in, a sees them and is told;
	// a's own keys do not go in until the teacher lets go.
	take, code := teach.dial(labA + "/terminals/" + id + "/take")
	if code != 101 {
		t.Fatalf("the teacher takes over: %d", code)
	}
	readUntil(t, term, websocket.MessageText, `"taken_by":"teach"`)
	send(t, term, "student while taken\n")
	send(t, take, "teacher typed\n")
	if got := readUntil(t, term, websocket.MessageBinary, "teacher typed"); strings.Contains(got, "student while taken") {
		t.Errorf("a's keys went in while the teacher had them: %q", got)
	}
	readUntil(t, take, websocket.MessageBinary, "teacher typed")
	take.Close(websocket.StatusNormalClosure, "")
	readUntil(t, term, websocket.MessageText, `"taken_by":""`)
	send(t, term, "student again\n")
	readUntil(t, term, websocket.MessageBinary, "student again")

	log, _ := f.st.AuditLog(context.Background(), 100)
	var seen []string
	for _, e := range log {
		seen = append(seen, e.User+" "+e.Action+" "+e.Outcome)
	}
	all := strings.Join(seen, "\n")
	for _, want := range []string{"teach watch terminal opened", "teach take over terminal opened", "teach take over terminal closed",
		"a take over terminal denied", "b GET denied"} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit log has no %q:\n%s", want, all)
		}
	}
}
