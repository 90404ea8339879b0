package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// peer is the far end of a session: what netlab wrote (requests), and a
// writer for what the agent answers.
type peer struct {
	requests *bufio.Scanner
	answer   *io.PipeWriter
}

func newConn(t *testing.T) (*agentConn, *peer, io.Reader) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	t.Cleanup(func() { inR.Close(); outW.Close() })
	c := &agentConn{host: "h1", pod: "netlab-agent-x", in: inW, cancel: func() {}, pending: map[uint64]chan AgentReply{}}
	return c, &peer{requests: bufio.NewScanner(inR), answer: outW}, outR
}

func (p *peer) say(t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if _, err := p.answer.Write(append(b, '\n')); err != nil {
		t.Errorf("answer: %v", err)
	}
}

func (p *peer) request(t *testing.T) AgentRequest {
	t.Helper()
	if !p.requests.Scan() {
		t.Fatalf("no request: %v", p.requests.Err())
	}
	var r AgentRequest
	if err := json.Unmarshal(p.requests.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// An agent of another protocol is refused, saying which.
func TestAgentOtherProtocol(t *testing.T) {
	c, p, out := newConn(t)
	go p.say(t, AgentHello{Protocol: AgentProtocol + 1, Host: "h1"})
	err := c.start(context.Background(), out, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "protocol 2") || !strings.Contains(err.Error(), "host h1") {
		t.Fatalf("start: %v", err)
	}
	if _, err := c.call(context.Background(), AgentRequest{Op: AgentNode}); err == nil {
		t.Fatal("a call on a refused session succeeded")
	}
}

// An agent that says nothing is given up on.
func TestAgentSilent(t *testing.T) {
	c, _, out := newConn(t)
	if err := c.start(context.Background(), out, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("start: %v", err)
	}
}

// Replies reach their calls by id, in whatever order they come; an error
// the agent answers is the call's error; when the session ends, the calls
// waiting fail with what the agent wrote on stderr, and so do later ones.
func TestAgentReplies(t *testing.T) {
	c, p, out := newConn(t)
	go p.say(t, AgentHello{Protocol: AgentProtocol, Host: "h1"})
	if err := c.start(context.Background(), out, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := map[string]AgentReply{}
	errs := map[string]error{}
	var mu sync.Mutex
	for _, cid := range []string{"containerd://a", "containerd://b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := c.call(context.Background(), AgentRequest{Op: AgentNode, Container: cid})
			mu.Lock()
			got[cid], errs[cid] = rep, err
			mu.Unlock()
		}()
	}
	r1, r2 := p.request(t), p.request(t)
	if r1.ID == r2.ID {
		t.Fatalf("two requests with id %d", r1.ID)
	}
	// The second first; a's request answered with an error.
	for _, r := range []AgentRequest{r2, r1} {
		if r.Container == "containerd://a" {
			p.say(t, AgentReply{ID: r.ID, Error: "container a does not run on this host"})
		} else {
			p.say(t, AgentReply{ID: r.ID, Pid: 42, NetNS: "net:[1] 2"})
		}
	}
	wg.Wait()
	if errs["containerd://a"] == nil || !strings.Contains(errs["containerd://a"].Error(), "does not run") {
		t.Errorf("a: %v", errs["containerd://a"])
	}
	if errs["containerd://b"] != nil || got["containerd://b"].NetNS != "net:[1] 2" {
		t.Errorf("b: %+v, %v", got["containerd://b"], errs["containerd://b"])
	}

	done := make(chan error, 1)
	go func() {
		_, err := c.call(context.Background(), AgentRequest{Op: AgentReady, Container: "containerd://a"})
		done <- err
	}()
	p.request(t)
	c.mu.Lock()
	c.stderr.WriteString("netlab agent: out of memory\n")
	c.mu.Unlock()
	p.answer.CloseWithError(io.ErrUnexpectedEOF)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "out of memory") || !strings.Contains(err.Error(), "host h1") {
			t.Errorf("the call when the session ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call waits on a session that ended")
	}
	if c.alive() {
		t.Error("the session is alive after it ended")
	}
	if _, err := c.call(context.Background(), AgentRequest{Op: AgentNode}); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("a call after the end: %v", err)
	}
}
