//go:build !nokube

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/engine/kube"
	"github.com/netlab/netlab/planner"
)

// session runs Serve over pipes: send writes a request, next reads the
// next line it wrote.
type session struct {
	in   *io.PipeWriter
	out  *bufio.Scanner
	done chan error
}

func newSession(t *testing.T) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{in: inW, out: bufio.NewScanner(outR), done: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), inR, outW)
		outW.Close()
		s.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return s
}

func (s *session) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		t.Fatalf("send %s: %v", line, err)
	}
}

func (s *session) next(t *testing.T, v any) {
	t.Helper()
	got := make(chan bool, 1)
	go func() { got <- s.out.Scan() }()
	select {
	case ok := <-got:
		if !ok {
			t.Fatalf("the agent wrote nothing more: %v", s.out.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not answer within 10 s")
	}
	if err := json.Unmarshal(s.out.Bytes(), v); err != nil {
		t.Fatalf("the agent's line %q: %v", s.out.Text(), err)
	}
}

func request(t *testing.T, r kube.AgentRequest) string {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The agent says its protocol and host first, then answers every request
// by its id, also those it cannot carry out, with what went wrong; a line
// that is no request ends the session with an error.
func TestServeAnswersByID(t *testing.T) {
	t.Setenv("NODE_NAME", "host-7")
	s := newSession(t)
	var hello kube.AgentHello
	s.next(t, &hello)
	if hello.Protocol != kube.AgentProtocol || hello.Host != "host-7" {
		t.Fatalf("hello %+v, want protocol %d on host-7", hello, kube.AgentProtocol)
	}
	missing := "containerd://" + strings.Repeat("0f", 32) // no such container here
	bridge := &planner.Step{ID: "bridge:lan", Kind: planner.KindBridge, Bridge: &planner.Bridge{Name: "nlb1", Network: "lan"}}
	cases := map[uint64]struct {
		req  kube.AgentRequest
		want string
	}{
		1: {kube.AgentRequest{Op: "reboot", Container: missing}, "does not run on this host"},
		2: {kube.AgentRequest{Op: kube.AgentNode, Container: missing}, "container " + missing + " does not run on this host"},
		3: {kube.AgentRequest{Op: kube.AgentNode, Container: "no-runtime-prefix"}, "want runtime://id"},
		4: {kube.AgentRequest{Op: kube.AgentStepOp, Lab: "l"}, "without its step"},
		7: {kube.AgentRequest{Op: kube.AgentStepOp, Lab: "../../etc", Step: bridge}, "is not a lab name"},
		8: {kube.AgentRequest{Op: kube.AgentDown, Lab: "a/b"}, "is not a lab name"},
		5: {kube.AgentRequest{Op: kube.AgentStepOp, Lab: "l", Step: bridge}, "does not carry out bridge steps"},
		6: {kube.AgentRequest{Op: kube.AgentStepOp, Lab: "l", Step: &planner.Step{ID: "addr:a:eth0", Kind: planner.KindAddr, Node: "a", Addr: &planner.Addr{Iface: "eth0"}},
			Nodes: map[string]kube.AgentStepEnd{"a": {Container: missing, Here: true}}}, "node a: container " + missing},
	}
	for id, c := range cases {
		c.req.ID = id
		s.send(t, request(t, c.req))
	}
	for n := len(cases); n > 0; n-- {
		var rep kube.AgentReply
		s.next(t, &rep)
		c, ok := cases[rep.ID]
		if !ok {
			t.Fatalf("a reply to no request: %+v", rep)
		}
		delete(cases, rep.ID)
		if !strings.Contains(rep.Error, c.want) || !strings.Contains(rep.Error, "host host-7") {
			t.Errorf("request %d (%s): error %q, want it to say %q and the host", rep.ID, c.req.Op, rep.Error, c.want)
		}
	}
	s.send(t, "{not json")
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "read a request") {
			t.Errorf("Serve after a bad line: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve went on after a line that is no request")
	}
}

func TestInstallInit(t *testing.T) {
	bin, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "netlab-init"), []byte("init build"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := installInit(filepath.Join(bin, "netlab"), dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "init"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("installed init: %v, mode %v", err, st)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "init")); string(b) != "init build" {
		t.Errorf("installed init holds %q", b)
	}
	if err := installInit(filepath.Join(t.TempDir(), "netlab"), dir); err == nil {
		t.Error("no init beside netlab: no error")
	}
}
