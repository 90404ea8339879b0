package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// apiPod is a pod of lab "w" as the API server sends it.
func apiPod(name, version string, running bool) corev1.Pod {
	p := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "netlab-w", UID: types.UID("u-" + name), ResourceVersion: version},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	if running {
		p.Status.Phase = corev1.PodRunning
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, ContainerID: "containerd://c-" + name,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	}
	return p
}

// TestWaitRunning: starting pods wait on one watch of the lab's
// namespace, each woken by its pod's change, not by asking again; a
// start that read its pod already (remakeEnded) does not ask for it.
func TestWaitRunning(t *testing.T) {
	var gets, lists, watches atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/namespaces/netlab-w/pods/{name}", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(apiPod(r.PathValue("name"), "1", false))
	})
	mux.HandleFunc("GET /api/v1/namespaces/netlab-w/pods", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") != "true" {
			lists.Add(1)
			_ = json.NewEncoder(w).Encode(corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
				ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: []corev1.Pod{apiPod("a", "1", false), apiPod("b", "1", false)}})
			return
		}
		watches.Add(1)
		enc := json.NewEncoder(w)
		for i, name := range []string{"a", "b"} {
			time.Sleep(100 * time.Millisecond)
			_ = enc.Encode(map[string]any{"type": "MODIFIED", "object": apiPod(name, fmt.Sprint(2+i), true)})
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, err := NewFromConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	b := apiPod("b", "1", false)
	read := map[string]*corev1.Pod{"w_a": nil, "w_b": &b}
	for id, known := range read {
		go func() {
			pod, err := r.waitRunning(ctx, id, known)
			if err == nil && runningContainer(pod, containerName) == "" {
				err = fmt.Errorf("%s: returned a pod not running", id)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if gets.Load() != 1 || lists.Load() != 1 || watches.Load() != 1 {
		t.Errorf("requests: %d gets, %d lists, %d watches; want 1 (w_a's pod), 1, 1", gets.Load(), lists.Load(), watches.Load())
	}
}
