package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/planner"
)

// pacePod is a pod on host in the state named: "making" (its sandbox
// being made), "running", "stuck" (its image not found) or "ended".
func pacePod(host, state string) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{NodeName: host}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	cs := corev1.ContainerStatus{Name: containerName}
	switch state {
	case "making":
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	case "running":
		p.Status.Phase = corev1.PodRunning
		cs.ContainerID = "containerd://0123456789abcdef"
		cs.State.Running = &corev1.ContainerStateRunning{}
	case "stuck":
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}
	case "ended":
		p.Status.Phase = corev1.PodFailed
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	return p
}

// TestPaceAdmit: a host makes at most its window of pods at once; a pod
// leaves the window when it runs, ends, is stuck, or was never made
// (Unpace); pods the scheduler places share every host's windows.
func TestPaceAdmit(t *testing.T) {
	w := &podWatch{pods: map[string]*corev1.Pod{}, changed: make(chan struct{})}
	r := &Runtime{}
	p := &r.pace
	p.read, p.windows, p.total, p.flight = true, map[string]int{"h1": 2, "h2": 2}, 4, map[string]map[string]*admission{}
	ns := Namespace("w")
	admit := func(name, host string, want bool) {
		t.Helper()
		if got := p.admit(w, ns, PodName(name), host); got != want {
			t.Fatalf("admit %s on %q: %v, want %v", name, host, got, want)
		}
	}
	admit("a", "h1", true)
	admit("b", "h1", true)
	admit("c", "h1", false) // a and b not yet seen: being made
	admit("x", "h2", true)  // another host has room
	admit("a", "h1", true)  // let in before
	w.pods[PodName("a")] = pacePod("h1", "making")
	admit("c", "h1", false)
	w.pods[PodName("a")] = pacePod("h1", "running")
	admit("c", "h1", true)
	w.pods[PodName("b")] = pacePod("h1", "stuck")
	admit("d", "h1", true)
	admit("e", "h1", false) // c and d
	w.pods[PodName("c")] = pacePod("h1", "ended")
	admit("e", "h1", true)
	admit("f", "h1", false)
	w.pods[PodName("d")] = pacePod("h1", "making")
	admit("f", "h1", false)
	delete(w.pods, PodName("d")) // seen, then gone
	admit("f", "h1", true)
	// The scheduler's pods: every host's windows together (4): e, f, x
	// are in flight.
	admit("s1", "", true)
	admit("s2", "", false)
	w.pods[PodName("s1")] = pacePod("h2", "making")
	admit("y", "h2", false)                      // x and s1, placed on h2
	r.Unpace("w", &planner.Container{Name: "x"}) // its Create failed
	admit("y", "h2", true)
}
