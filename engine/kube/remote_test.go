package kube

import (
	"context"
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/planner"
)

// Where each pod is a host of its own, a network's port requests set
// every member's span peers whole. A port's step that began before a
// member started must not send after one that has it: the requests go
// one port at a time, each with the members as they are when sent. Here
// a's port sends to a and d; c starts meanwhile, and c's port sends
// nothing until a's requests are answered, then to a, c and d, each
// with the other two as its peers.
func TestSpanRequestsOneAtATime(t *testing.T) {
	ctx := context.Background()
	addr := map[string]netip.Addr{"a": netip.MustParseAddr("198.19.1.3"), "c": netip.MustParseAddr("198.19.2.7"), "d": netip.MustParseAddr("198.19.1.2")}
	r := &Runtime{pods: map[string]running{}, agents: map[string]*agentConn{}}
	sent := map[string]chan AgentRequest{} // by node: the requests its pod's agent received
	answer := map[string]*peer{}
	for n, a := range addr {
		host := podHostPrefix + "lab/" + n
		r.pods["id-"+n] = running{cid: "containerd://" + n, place: engine.Place{Host: host, Addr: a, Iface: "pod0"}}
		c, p, out := newConn(t)
		go p.say(t, AgentHello{Protocol: AgentProtocol, Host: host})
		if err := c.start(ctx, out, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		r.agents[host] = c
		answer[n] = p
		sent[n] = make(chan AgentRequest, 4)
		go func() {
			for p.requests.Scan() {
				var req AgentRequest
				if err := json.Unmarshal(p.requests.Bytes(), &req); err != nil {
					t.Error(err)
					return
				}
				sent[n] <- req
			}
		}()
	}
	var mu sync.Mutex
	started := map[string]string{"a": "id-a", "d": "id-d"}
	members := func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(started)
	}
	port := func(node string) chan error {
		w := engine.AgentStep{Lab: "lab", Step: &planner.Step{ID: "port:" + node, Kind: planner.KindPort},
			Nodes: map[string]string{node: "id-" + node}, Bridge: &planner.Bridge{Network: "lan", Name: "nlbx"}, Members: members}
		done := make(chan error, 1)
		go func() { _, _, err := r.AgentStep(ctx, w); done <- err }()
		return done
	}
	next := func(node string) AgentRequest {
		t.Helper()
		select {
		case req := <-sent[node]:
			return req
		case <-time.After(10 * time.Second):
			t.Fatalf("no request reached %s's agent", node)
			return AgentRequest{}
		}
	}
	aDone := port("a")
	first := map[string]AgentRequest{"a": next("a"), "d": next("d")}
	mu.Lock()
	started["c"] = "id-c"
	mu.Unlock()
	cDone := port("c")
	select {
	case req := <-sent["c"]:
		t.Fatalf("c's port sent to c while a's port's requests were out: %+v", req)
	case <-time.After(300 * time.Millisecond):
	}
	for n, req := range first {
		answer[n].say(t, AgentReply{ID: req.ID})
	}
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "c", "d"} {
		req := next(n)
		var want []netip.Addr
		for m, a := range addr {
			if m != n {
				want = append(want, a)
			}
		}
		slices.SortFunc(want, netip.Addr.Compare)
		if req.Local != addr[n] || !slices.Equal(req.Peers, want) {
			t.Errorf("c's port's request to %s: local %s, peers %v; want %s, %v", n, req.Local, req.Peers, addr[n], want)
		}
		answer[n].say(t, AgentReply{ID: req.ID})
	}
	if err := <-cDone; err != nil {
		t.Fatal(err)
	}
}
