package kube

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// An up made all of a lab's pods at once: a star of 100 had its 100 pods
// made in 10 s, and each host's kubelet then made the sandboxes of its
// 50 at once, each taking 5 s among the others (runc, the shims, the CNI
// plugins, the kubelet and containerd all sharing the host's CPUs). So up
// makes a pod only when its host has room: at most podsPerCPU pods per
// CPU of the host in flight (made, their node's container not yet
// running), waited for on the lab's shared watch of its pods (podwatch.go)
// before the create step takes one of the up's slots (steps.Pacer), so
// that the pods running meanwhile are started and wired.

// podsPerCPU is how many pods a host makes at once per CPU it has.
const podsPerCPU = 2

// pacing is the runtime's record of the pods it let be made and that are
// not yet running, and of the hosts' room.
type pacing struct {
	mu      sync.Mutex
	read    bool                             // the hosts were read
	windows map[string]int                   // by host: pods in flight at once
	total   int                              // every host's together: for pods the scheduler places
	flight  map[string]map[string]*admission // by namespace, then pod
	wake    chan struct{}                    // closed, and made again, when a pod is given back (Unpace)
}

// admission is a pod let be made.
type admission struct {
	host string // its host: key ("": the scheduler's choice)
	seen bool   // the watch has shown it
}

// Pace waits until the node's pod has room on its host (its host: key;
// a pod the scheduler places, room on the cluster), and counts it in
// flight there until the watch shows its container running (or ended, or
// stuck: an image not found, a pod rejected, which takes nothing of the
// host). Create makes it next; Unpace gives the room back when it could
// not. A cluster whose hosts cannot be read is not paced.
func (r *Runtime) Pace(ctx context.Context, lab string, c *planner.Container) error {
	p := &r.pace
	if !r.readWindows(ctx) {
		return nil
	}
	ns, name := Namespace(lab), PodName(nodeOf(c))
	w := r.joinWatch(ns)
	defer r.leaveWatch(ns, w)
	for {
		_, changed := w.get("")
		p.mu.Lock()
		wake := p.wake
		if p.admit(w, ns, name, c.Host) {
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-wake:
		}
	}
}

// Unpace gives back the room Pace held for the node's pod (its Create
// failed).
func (r *Runtime) Unpace(lab string, c *planner.Container) {
	p := &r.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.flight[Namespace(lab)], PodName(nodeOf(c)))
	if p.wake != nil {
		close(p.wake)
	}
	p.wake = make(chan struct{})
}

// nodeOf is the node a container is, as Create names its pod.
func nodeOf(c *planner.Container) string {
	if n := c.Labels[naming.LabelNode]; n != "" {
		return n
	}
	return c.Name
}

// readWindows reads the hosts' CPUs once: a host's window is podsPerCPU
// pods a CPU (NETLAB_KUBE_PODS_PER_CPU another number; 0: no pacing).
// False: no pacing.
func (r *Runtime) readWindows(ctx context.Context) bool {
	p := &r.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.read {
		return p.total > 0
	}
	per := podsPerCPU
	if v, err := strconv.Atoi(os.Getenv("NETLAB_KUBE_PODS_PER_CPU")); err == nil {
		per = v
	}
	nodes, err := r.core.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false // not paced; Create says what is wrong with the cluster
	}
	p.read, p.windows, p.flight, p.wake = true, map[string]int{}, map[string]map[string]*admission{}, make(chan struct{})
	for _, n := range nodes.Items {
		cpu := n.Status.Allocatable.Cpu().Value()
		if cpu < 1 {
			cpu = 1
		}
		p.windows[n.Name] = per * int(cpu)
		if !n.Spec.Unschedulable {
			p.total += per * int(cpu)
		}
	}
	return p.total > 0
}

// admit counts the pods of namespace ns in flight, as the watch w shows
// them, and lets pod name be made on host when there is room. p.mu is
// held.
func (p *pacing) admit(w *podWatch, ns, name, host string) bool {
	flight := p.flight[ns]
	if flight == nil {
		flight = map[string]*admission{}
		p.flight[ns] = flight
	}
	if flight[name] != nil {
		return true // let in before (an up tried again)
	}
	on, all := 0, 0
	for pod, a := range flight {
		seen, _ := w.get(pod)
		if seen == nil && a.seen || seen != nil && !inFlight(seen) {
			delete(flight, pod) // gone, running, or going nowhere
			continue
		}
		a.seen = a.seen || seen != nil
		at := a.host
		if seen != nil && seen.Spec.NodeName != "" {
			at = seen.Spec.NodeName
		}
		all++
		if at == host {
			on++
		}
	}
	room := all < p.total
	if window, known := p.windows[host]; host != "" && known {
		room = on < window
	}
	if room {
		flight[name] = &admission{host: host}
	}
	return room
}

// inFlight tells whether a pod is still being made on its host: not
// running, not ended, and not waiting on something other than its
// making (an image that cannot be pulled, a configuration refused).
func inFlight(pod *corev1.Pod) bool {
	if ended(pod) || runningContainer(pod, containerName) != "" || pod.Status.Reason != "" {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return false // unschedulable: no host makes it
		}
	}
	for _, s := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
		if s.State.Waiting != nil && s.State.Waiting.Reason != "ContainerCreating" && s.State.Waiting.Reason != "PodInitializing" {
			return false
		}
	}
	return true
}
