package kube

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
)

// A pod cannot be stopped and started again: its restart policy is Never
// (the watcher decides what starts again, as on runc), and a pod whose
// container ended stays, ended, as a stopped container does on the other
// runtimes. Stop ends the node's command; Start makes an ended pod again
// from its own spec (same name, host, volumes and files), which up then
// wires as it wires a restarted container.

// ended tells whether the pod's container has ended for good.
func ended(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

// Stop ends the node's command as the other runtimes stop a container:
// SIGTERM to its first process (netlab's init, which passes it on), then
// after the grace period SIGKILL, and waits until the pod shows it ended.
// A node that has ended, or whose pod is gone, is stopped: success.
func (r *Runtime) Stop(ctx context.Context, id string) error {
	r.forget(id)
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		pod, err := r.pod(ctx, id)
		if errors.Is(err, engine.ErrNoContainer) {
			return nil
		}
		if err != nil {
			return err
		}
		if ended(pod) {
			return nil
		}
		n, err := r.Inspect(ctx, id)
		if err != nil {
			return fmt.Errorf("stop pod %s: %w", id, err)
		}
		if n.Pid == 0 && !n.Remote {
			return fmt.Errorf("stop pod %s: its container does not run yet (%s)", id, waitingReason(pod))
		}
		c, cid, err := r.remote(ctx, n)
		if hasPodAgent(pod) {
			err = r.signalInNode(ctx, pod, sig)
		} else if err == nil && c != nil {
			_, err = c.call(ctx, AgentRequest{Op: AgentSignal, Container: cid, Signal: int(sig)})
		} else if err == nil {
			if err = syscall.Kill(n.Pid, sig); errors.Is(err, syscall.ESRCH) {
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("stop pod %s: signal its process %d: %w", id, n.Pid, err)
		}
		wait := stopGrace * time.Second
		if i > 0 {
			wait = 30 * time.Second // the kubelet's report of the end
		}
		if done, err := r.waitEnded(ctx, id, wait); done || err != nil {
			return err
		}
	}
	return fmt.Errorf("stop pod %s: it still runs after SIGKILL", id)
}

// waitEnded waits at most d until the pod shows that its container ended
// (or the pod is gone).
func (r *Runtime) waitEnded(ctx context.Context, id string, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	for {
		pod, err := r.pod(ctx, id)
		if errors.Is(err, engine.ErrNoContainer) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if ended(pod) {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("stop pod %s: %w", id, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Start waits until the node's container runs (a pod starts when it is
// made; one that ended is made again: remakeEnded) by the lab's shared
// watch of its pods (waitRunning), moves the pod network's interface out
// of the lab's way (PodIface), and returns its process.
func (r *Runtime) Start(ctx context.Context, id string) (engine.Node, error) {
	r.forget(id)
	pod, err := r.remakeEnded(ctx, id)
	if err != nil {
		return engine.Node{}, err
	}
	pod, err = r.waitRunning(ctx, id, pod)
	for err == nil {
		var n engine.Node
		if n, err = r.inspectPod(ctx, id, pod); err != nil {
			return n, err
		}
		if n.Remote {
			c, cid, err := r.remote(ctx, n)
			if err == nil {
				_, err = c.call(ctx, AgentRequest{Op: AgentStart, Container: cid, PodIP: pod.Status.PodIP, Hostname: pod.Annotations[hostnameAnnotation]})
			}
			if err != nil {
				return engine.Node{}, fmt.Errorf("start pod %s: %w", id, err)
			}
			return n, nil
		}
		if n.Pid != 0 {
			if err := FinishStart(n.Pid, pod.Status.PodIP, pod.Annotations[hostnameAnnotation]); err != nil {
				return engine.Node{}, fmt.Errorf("start pod %s: %w", id, err)
			}
			r.remember(id, runningContainer(pod, containerName), n)
			return n, nil
		}
		select { // running by its status, its process not seen here yet
		case <-ctx.Done():
			return engine.Node{}, fmt.Errorf("start pod %s: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return engine.Node{}, err
}

// remakeEnded makes a pod whose container ended again from its own spec:
// the old one is deleted (it cannot run again), and the new one has the
// same name, host and everything else. A pod that did not end is left,
// and returned as read (nil: the one made again).
func (r *Runtime) remakeEnded(ctx context.Context, id string) (*corev1.Pod, error) {
	pod, err := r.pod(ctx, id)
	if err != nil || !ended(pod) {
		return pod, err
	}
	again := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels, Annotations: pod.Annotations},
		Spec:       pod.Spec,
	}
	zero := int64(0)
	pods := r.core.Pods(pod.Namespace)
	if err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		return nil, fmt.Errorf("start pod %s again: delete the ended one: %w", id, err)
	}
	if err := waitGone(ctx, "pod "+id, func() error { _, err := pods.Get(ctx, pod.Name, metav1.GetOptions{}); return err }); err != nil {
		return nil, fmt.Errorf("start pod %s again: %w", id, err)
	}
	if _, err := pods.Create(ctx, again, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("start pod %s again: %w", id, err)
	}
	return nil, nil
}

// Died lists the nodes of since whose container ended after the node's
// time, with its exit code (a pod is never started again: restartPolicy
// Never).
func (r *Runtime) Died(ctx context.Context, lab string, since map[string]time.Time) (map[string]int, error) {
	pods, err := r.core.Pods(Namespace(lab)).List(ctx, metav1.ListOptions{LabelSelector: naming.LabelLab + "=" + lab})
	if err != nil {
		return nil, fmt.Errorf("list pods of lab %s: %w", lab, err)
	}
	out := map[string]int{}
	for _, p := range pods.Items {
		node := p.Labels[naming.LabelNode]
		if t, asked := since[node]; asked {
			if code, ok := endedSince(&p, t); ok {
				out[node] = code
			}
		}
	}
	return out, nil
}

// endedSince is the exit code of the pod's container when it ended since.
func endedSince(p *corev1.Pod, since time.Time) (int, bool) {
	for _, s := range p.Status.ContainerStatuses {
		if t := s.State.Terminated; s.Name == containerName && t != nil && !t.FinishedAt.Time.Before(since.Truncate(time.Second)) {
			return int(t.ExitCode), true
		}
	}
	return 0, false
}

// Watch is the watcher of a lab on this runtime: a watch on the lab's pods
// (the API sends each change; nothing polls) that asks for a rewiring on
// kick when a node's container ended since and the node was not stopped
// on purpose (netlab stop): the rewiring's up makes its pod again (Start).
// A watch the API server ends is made again; it returns when ctx ends, or
// with the error of a watch that cannot be made.
func (r *Runtime) Watch(ctx context.Context, lab string, since time.Time, kick chan<- struct{}) error {
	pods := r.core.Pods(Namespace(lab))
	opts := metav1.ListOptions{LabelSelector: naming.LabelLab + "=" + lab}
	seen := map[string]bool{} // pods (by uid) whose end was handled
	for ctx.Err() == nil {
		w, err := pods.Watch(ctx, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch the pods of lab %s: %w", lab, err)
		}
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted || seen[string(pod.UID)] {
				continue
			}
			if _, ok := endedSince(pod, since); !ok || !ended(pod) {
				continue
			}
			seen[string(pod.UID)] = true
			node := pod.Labels[naming.LabelNode]
			if slices.Contains(engine.StoppedOnPurpose(lab), node) {
				log.Printf("node %s stopped (netlab stop): left down", node)
				continue
			}
			log.Printf("node %s ended; starting and rewiring", node)
			select {
			case kick <- struct{}{}:
			default: // a rewiring is due already
			}
		}
		w.Stop()
	}
	return nil
}
