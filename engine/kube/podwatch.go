package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// A lab's pods start together: up makes them all, then each start step
// waits for its own pod's container to run. Asked for every 250 ms, the
// waits of a 100-node star were 4,100 requests for pods in one up (the
// client's 50 a second), and the API server answering them and netlab
// decoding them took a fifth of the 2 cores the pods were made on. So the
// waits share one watch of the lab's namespace: a list, then each change
// of a pod once.

// watchLinger is how long a lab's watch stays after its last waiter left,
// for the next start of the same up.
const watchLinger = 2 * time.Second

// watchFallback bounds a wait on the watch: a wait that saw no change
// this long asks for its pod (a watch not yet listed, or cut).
const watchFallback = 5 * time.Second

// podWatch is the shared watch of one namespace's pods.
type podWatch struct {
	cancel  context.CancelFunc
	users   int // starts waiting on it; guarded by Runtime.watchMu
	mu      sync.Mutex
	pods    map[string]*corev1.Pod // by name, as last seen
	changed chan struct{}          // closed, and made again, at every change
}

// joinWatch is the namespace's watch, started for its first waiter.
func (r *Runtime) joinWatch(ns string) *podWatch {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	w := r.watches[ns]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &podWatch{cancel: cancel, pods: map[string]*corev1.Pod{}, changed: make(chan struct{})}
		if r.watches == nil {
			r.watches = map[string]*podWatch{}
		}
		r.watches[ns] = w
		go w.run(ctx, r.core.Pods(ns))
	}
	w.users++
	return w
}

// leaveWatch ends a wait; the watch stops watchLinger after its last.
func (r *Runtime) leaveWatch(ns string, w *podWatch) {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if w.users--; w.users > 0 {
		return
	}
	time.AfterFunc(watchLinger, func() {
		r.watchMu.Lock()
		defer r.watchMu.Unlock()
		if w.users == 0 && r.watches[ns] == w {
			delete(r.watches, ns)
			w.cancel()
		}
	})
}

// get is the pod as the watch last saw it (nil: not seen), and a channel
// closed at the watch's next change.
func (w *podWatch) get(name string) (*corev1.Pod, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pods[name], w.changed
}

// set records pods (nil: gone) and wakes the waiters.
func (w *podWatch) set(name string, pod *corev1.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pod == nil {
		delete(w.pods, name)
	} else {
		w.pods[name] = pod
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// run lists the pods, then follows their changes, and lists again when
// the watch ends, until ctx ends. A failure waits a second: the waiters
// ask for their pods themselves meanwhile (watchFallback).
func (w *podWatch) run(ctx context.Context, pods pods) {
	for ctx.Err() == nil {
		if err := w.follow(ctx, pods); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// follow is one list and the watch from its version.
func (w *podWatch) follow(ctx context.Context, pods pods) error {
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range list.Items {
		w.set(list.Items[i].Name, &list.Items[i])
	}
	wi, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		return err
	}
	defer wi.Stop()
	for ev := range wi.ResultChan() {
		pod, ok := ev.Object.(*corev1.Pod)
		switch {
		case ev.Type == watch.Error:
			return fmt.Errorf("watch of pods: %v", ev.Object)
		case !ok || ev.Type == watch.Bookmark:
		case ev.Type == watch.Deleted:
			w.set(pod.Name, nil)
		default:
			w.set(pod.Name, pod)
		}
	}
	return nil
}

// waitRunning waits until the node's pod has its container running, by
// the lab's shared watch, and returns the pod. pod is the pod as just
// read (nil: it is read first). A pod whose container ended is an error.
func (r *Runtime) waitRunning(ctx context.Context, id string, pod *corev1.Pod) (*corev1.Pod, error) {
	var err error
	if pod == nil {
		if pod, err = r.pod(ctx, id); err != nil {
			return nil, err
		}
	}
	w := r.joinWatch(pod.Namespace)
	defer r.leaveWatch(pod.Namespace, w)
	for {
		if ended(pod) {
			return nil, fmt.Errorf("start pod %s: it ended (%s): %s", id, pod.Status.Phase, waitingReason(pod))
		}
		if runningContainer(pod, containerName) != "" {
			return pod, nil
		}
		seen, changed := w.get(pod.Name)
		if seen != nil && seen.UID == pod.UID && seen.ResourceVersion != pod.ResourceVersion {
			pod = seen
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("start pod %s: %w (%s)", id, ctx.Err(), waitingReason(pod))
		case <-changed:
		case <-time.After(watchFallback):
			if pod, err = r.pod(ctx, id); err != nil {
				return nil, err
			}
		}
	}
}
