// Package kube runs a lab's nodes as pods of a Kubernetes cluster,
// through its API (client-go): a lab is a namespace of its own, a node a
// pod in it with netlab's init as its first process. It implements
// engine.Runtime for a cluster whose hosts share this machine's kernel (a
// single-host cluster, or scripts/k8s-cluster.sh's simulated hosts), where
// the wiring reaches a pod's namespaces by its process as on the other
// runtimes (a link between pods on two hosts is a VXLAN tunnel over the
// pod network: Place); docs/kubernetes.md says what the per-host agent
// will add for other clusters.
package kube

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
)

// Name is the runtime's name, as the lab file's runtime key gives it.
const Name = engine.RuntimeKubernetes

// containerName is the node's container in its pod.
const containerName = "node"

// stopGrace is how long a node has between SIGTERM and SIGKILL, as on the
// other runtimes.
const stopGrace = 10

// Runtime runs nodes as pods of one cluster.
type Runtime struct {
	core       core
	cfg        *rest.Config
	kubeconfig string // the file it was reached by
	// Image gives an image's entrypoint, command and labels, which the
	// API cannot tell (nil: a node's command must be in the lab file).
	Image ImageConfig

	agentMu sync.Mutex
	agents  map[string]*agentConn  // by host: the sessions with the hosts' agents
	pods    map[string]running     // by node id: running pods, for the steps through the agents
	started map[string]startedPod  // by node id: pods this runtime started whose process is here (Inspect)
	spans   map[string]*sync.Mutex // by lab and bridge: one port's span requests at a time (spanLock)
	// Whether the pods made carry their own agents (usePodAgents), decided once.
	podAgentsDecided, podAgents bool

	watchMu sync.Mutex
	watches map[string]*podWatch // by namespace: the shared watches of starting pods (podwatch.go)
	made    map[string]bool      // the labs' namespaces known to exist, so made once an up
}

// ImageConfig reads an image's entrypoint, command and labels (from a
// copy of the image this machine has: the Docker engine's).
type ImageConfig func(ctx context.Context, image string) (entry, cmd []string, labels map[string]string, err error)

var (
	_ engine.ClusterRuntime = (*Runtime)(nil)
	_ engine.NodeFiles      = (*Runtime)(nil)
)

// New reaches the cluster of a kubeconfig file ("" follows KUBECONFIG,
// then ~/.kube/config).
func New(kubeconfig string) (*Runtime, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes runtime: load kubeconfig: %w (give --kubeconfig or set KUBECONFIG)", err)
	}
	r, err := NewFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	r.kubeconfig = kubeconfig
	if kubeconfig == "" {
		for _, f := range rules.GetLoadingPrecedence() {
			if _, err := os.Stat(f); err == nil {
				r.kubeconfig = f
				break
			}
		}
	}
	if abs, err := filepath.Abs(r.kubeconfig); err == nil {
		r.kubeconfig = abs
	}
	return r, nil
}

// Kubeconfig is the file the runtime reached its cluster by.
func (r *Runtime) Kubeconfig() string { return r.kubeconfig }

// NewFromConfig reaches the cluster of a client configuration. Unless it
// says otherwise, requests are limited to 50 a second with bursts of 300,
// as kubectl's are: client-go's own 5 a second held an up of 20 nodes
// about 3 s at each step (the API server's priority and fairness still
// protects it).
func NewFromConfig(cfg *rest.Config) (*Runtime, error) {
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		cfg = rest.CopyConfig(cfg)
		cfg.QPS, cfg.Burst = 50, 300
	}
	c, err := newCore(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes runtime: client for %s: %w", cfg.Host, err)
	}
	return &Runtime{core: c, cfg: cfg}, nil
}

// Create makes the lab's namespace if it is missing, and the node's pod in
// it. A pod cannot be made without being started: its container runs
// netlab's init, which waits for the wiring (the ready file) before it
// starts the node's command, as a created container on the other runtimes
// does once started. init is the path of netlab-init on the cluster's
// hosts (engine.InstallInit puts it in the same place on every host that
// shares this machine's files).
func (r *Runtime) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (string, error) {
	var entry, cmd []string
	var labels map[string]string
	if len(c.Command) == 0 && r.Image != nil {
		var err error
		if entry, cmd, labels, err = r.Image(ctx, c.Image); err != nil {
			return "", fmt.Errorf("node %s: the image's command: %w; or give the node's command in the lab file", c.Name, err)
		}
	}
	argv, imageCaps, err := engine.NodeArgv(c, entry, cmd, labels)
	if err != nil {
		return "", err
	}
	if err := engine.MarkCluster(lab, r.kubeconfig); err != nil {
		return "", err
	}
	// The node's run directory on this machine, as the other runtimes
	// make it: the ready step records the node's interfaces there.
	node := c.Labels[naming.LabelNode]
	if node == "" {
		node = c.Name
	}
	run := filepath.Join(engine.RunDir, lab, node)
	if err := os.MkdirAll(run, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", run, err)
	}
	c, exec, err := folderCopies(c)
	if err != nil {
		return "", err
	}
	if err := r.ensureNamespace(ctx, lab); err != nil {
		return "", err
	}
	pod, err := podSpec(lab, c, hosts, init, argv, imageCaps)
	if err != nil {
		return "", err
	}
	own, err := r.usePodAgents(ctx)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", c.Name, err)
	}
	if own {
		withPodAgent(pod, podAgentImage())
	}
	ns := Namespace(lab)
	cm, vol, err := filesMap(lab, node, c, exec)
	if err != nil {
		return "", err
	}
	if cm != nil {
		cm.Namespace = ns
		if err := r.ensureFiles(ctx, cm); err != nil {
			return "", err
		}
		withFiles(pod, vol)
	}
	_, err = r.core.Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create pod %s of node %s in namespace %s: %w", pod.Name, c.Name, ns, err)
	}
	return c.Name, nil
}

// ensureNamespace makes the lab's namespace, labelled as netlab's, once
// for all the lab's pods (RemoveLab forgets it).
func (r *Runtime) ensureNamespace(ctx context.Context, lab string) error {
	r.watchMu.Lock()
	made := r.made[lab]
	r.watchMu.Unlock()
	if made {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   Namespace(lab),
		Labels: map[string]string{naming.LabelLab: lab},
	}}
	_, err := r.core.Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s of lab %s: %w", ns.Name, lab, err)
	}
	r.watchMu.Lock()
	if r.made == nil {
		r.made = map[string]bool{}
	}
	r.made[lab] = true
	r.watchMu.Unlock()
	return nil
}

// podSpec is the node's pod: its image, netlab's init (a host path, read
// only) running the node's command, an empty directory for the ready file
// (on the host's disk: a tmpfs costs the kubelet a mount(8) a pod), the
// node's capabilities, sysctls, environment and /etc/hosts.
func podSpec(lab string, c *planner.Container, hosts []planner.Host, init string, argv, imageCaps []string) (*corev1.Pod, error) {
	vols, mounts, err := hostVolumes(c)
	if err != nil {
		return nil, err
	}
	caps := &corev1.Capabilities{}
	for _, name := range engine.CapAdd(c, imageCaps) {
		caps.Add = append(caps.Add, corev1.Capability(name))
	}
	for _, name := range c.CapDrop {
		caps.Drop = append(caps.Drop, corev1.Capability(name))
	}
	var env []corev1.EnvVar
	for k, v := range c.Env {
		env = append(env, corev1.EnvVar{Name: k, Value: v})
	}
	sort.Slice(env, func(i, j int) bool { return env[i].Name < env[j].Name })
	var sysctls []corev1.Sysctl
	for k, v := range c.Sysctls {
		sysctls = append(sysctls, corev1.Sysctl{Name: k, Value: v})
	}
	sort.Slice(sysctls, func(i, j int) bool { return sysctls[i].Name < sysctls[j].Name })
	var aliases []corev1.HostAlias
	for _, h := range hosts {
		// The API takes lower-case names only; names are looked up
		// regardless of case.
		var names []string
		for _, n := range h.Names {
			names = append(names, strings.ToLower(n))
		}
		aliases = append(aliases, corev1.HostAlias{IP: h.Addr.String(), Hostnames: names})
	}
	node := c.Labels[naming.LabelNode]
	if node == "" {
		node = c.Name
	}
	hostname := c.Hostname
	if hostname == "" {
		hostname = node
	}
	// The host's resolver, as a container with no network has on the other
	// runtimes, unless the node names its own.
	dnsPolicy, dnsConfig := corev1.DNSDefault, (*corev1.PodDNSConfig)(nil)
	if len(c.DNS) > 0 || len(c.DNSSearch) > 0 {
		dnsConfig = &corev1.PodDNSConfig{Nameservers: c.DNS, Searches: c.DNSSearch}
	}
	if len(c.DNS) > 0 {
		dnsPolicy = corev1.DNSNone
	}
	annotations := c.Labels
	if podHostname(hostname) != hostname {
		annotations = maps.Clone(c.Labels)
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[hostnameAnnotation] = hostname
	}
	fileType := corev1.HostPathFile
	grace := int64(stopGrace)
	no := false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        PodName(node),
			Labels:      map[string]string{naming.LabelLab: lab, naming.LabelNode: node},
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			NodeName:                      c.Host,
			Affinity:                      together(lab, c.Host),
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			Hostname:                      podHostname(hostname),
			HostAliases:                   aliases,
			DNSPolicy:                     dnsPolicy,
			DNSConfig:                     dnsConfig,
			SecurityContext:               &corev1.PodSecurityContext{Sysctls: sysctls},
			Volumes: append([]corev1.Volume{
				{Name: "init", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: init, Type: &fileType}}},
				{Name: "ready", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			}, vols...),
			Containers: []corev1.Container{{
				Name:            containerName,
				Image:           c.Image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         append(engine.InitArgs(c), argv...),
				Env:             env,
				SecurityContext: &corev1.SecurityContext{Capabilities: caps},
				VolumeMounts: append([]corev1.VolumeMount{
					{Name: "init", MountPath: nodeinit.Path, ReadOnly: true},
					{Name: "ready", MountPath: nodeinit.ReadyDir},
				}, mounts...),
			}},
		},
	}, nil
}

// podHostname is a node's host name as the API takes it: lower case, its
// first label (a name with dots is refused; /etc/hosts has the full name,
// and Start sets it in the pod's UTS namespace: hostnameAnnotation).
func podHostname(name string) string {
	first, _, _ := strings.Cut(strings.ToLower(name), ".")
	return first
}

// waitingReason says why a pod's container does not run, from its status.
func waitingReason(pod *corev1.Pod) string {
	if pod.Status.Message != "" { // the pod as a whole: rejected by its host
		return strings.TrimSpace(pod.Status.Reason + ": " + pod.Status.Message)
	}
	for _, s := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		switch {
		case s.State.Waiting != nil && s.State.Waiting.Reason == "PodInitializing":
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0 && s.Name == podInitContainer:
		case s.State.Waiting != nil:
			return strings.TrimSpace(s.State.Waiting.Reason + " " + s.State.Waiting.Message)
		case s.State.Terminated != nil:
			return fmt.Sprintf("exited %d: %s", s.State.Terminated.ExitCode, s.State.Terminated.Reason)
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return c.Message
		}
	}
	return "phase " + string(pod.Status.Phase)
}

func (r *Runtime) pod(ctx context.Context, id string) (*corev1.Pod, error) {
	ns, name, err := splitID(id)
	if err != nil {
		return nil, err
	}
	pod, err := r.core.Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("pod %s: %w", id, engine.ErrNoContainer)
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s: %w", id, err)
	}
	return pod, nil
}

// List returns the lab's nodes ("" lists every lab's), by lab and node.
func (r *Runtime) List(ctx context.Context, lab string) ([]engine.Container, error) {
	sel := naming.LabelLab
	if lab != "" {
		sel += "=" + lab
	}
	pods, err := r.core.Pods("").List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list pods of lab %q: %w", lab, err)
	}
	var out []engine.Container
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Namespace, nsPrefix) {
			continue
		}
		labels := map[string]string{}
		for k, v := range p.Annotations {
			labels[k] = v
		}
		labels[naming.LabelLab] = p.Labels[naming.LabelLab]
		labels[naming.LabelNode] = p.Labels[naming.LabelNode]
		image := ""
		if len(p.Spec.Containers) > 0 {
			image = p.Spec.Containers[0].Image
		}
		name := naming.Container(p.Labels[naming.LabelLab], p.Labels[naming.LabelNode])
		out = append(out, engine.Container{
			ID: name, Name: name, Node: p.Labels[naming.LabelNode],
			State: strings.ToLower(string(p.Status.Phase)), Status: waitingReason(&p),
			Image: image, Labels: labels, Runtime: Name,
		})
	}
	engine.SortContainers(out)
	return out, nil
}

// Remove deletes the node's pod at once (no grace period) and waits until
// it is gone; gone is success.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	r.forget(id)
	ns, name, err := splitID(id)
	if err != nil {
		return err
	}
	zero := int64(0)
	if err := r.removeFiles(ctx, ns, name); err != nil {
		return err
	}
	err = r.core.Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete pod %s: %w", id, err)
	}
	return waitGone(ctx, "pod "+id, func() error {
		_, err := r.core.Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
}

// RemoveLab deletes the lab's namespace, and with it everything in it,
// waits until it is gone (gone is success), then has the agents remove
// what they made on their hosts for it. It is what netlab down does on
// this runtime.
func (r *Runtime) RemoveLab(ctx context.Context, lab string) error {
	r.watchMu.Lock()
	delete(r.made, lab)
	r.watchMu.Unlock()
	ns := Namespace(lab)
	zero := int64(0)
	fg := metav1.DeletePropagationForeground
	err := r.core.Namespaces().Delete(ctx, ns, metav1.DeleteOptions{GracePeriodSeconds: &zero, PropagationPolicy: &fg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s of lab %s: %w", ns, lab, err)
	}
	if err == nil {
		err = waitGone(ctx, "namespace "+ns, func() error {
			_, err := r.core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err
		})
		if err != nil {
			return err
		}
	}
	return r.agentsDown(ctx, lab)
}

// waitGone polls get until it says not found.
func waitGone(ctx context.Context, what string, get func() error) error {
	for {
		err := get()
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for %s to go: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to go: %w", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// HasImage tells whether a host of the cluster has the image, as the
// hosts report their images: a node on any host can then run it where the
// scheduler puts it only if every host has it, which placement will need
// to know.
func (r *Runtime) HasImage(ctx context.Context, image string) (bool, error) {
	nodes, err := r.core.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("list the cluster's hosts for image %s: %w", image, err)
	}
	want := imageNames(image)
	for _, n := range nodes.Items {
		for _, img := range n.Status.Images {
			for _, name := range img.Names {
				if slices.Contains(want, name) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// imageNames are the names a host may report an image by: as given,
// with :latest, and in full with Docker Hub's host.
func imageNames(image string) []string {
	names := []string{image}
	last := image[strings.LastIndex(image, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		image += ":latest"
		names = append(names, image)
	}
	first, _, hasHost := strings.Cut(image, "/")
	switch {
	case !hasHost:
		names = append(names, "docker.io/library/"+image)
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		names = append(names, "docker.io/"+image)
	}
	return names
}

// EnsureHosts rewrites the node's /etc/hosts (the file kubelet made from
// the pod's hostAliases) through its process, when it differs.
func (r *Runtime) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (bool, error) {
	n, err := r.Inspect(ctx, id)
	if err != nil {
		return false, err
	}
	if n.Pid == 0 && !n.Remote {
		return false, fmt.Errorf("/etc/hosts of pod %s: it does not run", id)
	}
	c, cid, err := r.remote(ctx, n)
	if err != nil {
		return false, fmt.Errorf("/etc/hosts of pod %s: %w", id, err)
	}
	if c != nil {
		rep, err := c.call(ctx, AgentRequest{Op: AgentHosts, Container: cid, Hosts: hosts})
		if err != nil {
			return false, fmt.Errorf("/etc/hosts of pod %s: %w", id, err)
		}
		return rep.Changed, nil
	}
	changed, err := engine.WriteHostsFile(fmt.Sprintf("/proc/%d/root/etc/hosts", n.Pid), hosts)
	if err != nil {
		return false, fmt.Errorf("/etc/hosts of pod %s: %w", id, err)
	}
	return changed, nil
}

// WriteReady writes the node's ready file into its ready directory,
// through its process pid, or by the agent of its host for a node on
// another host (pid 0: Node.Remote): its init then starts its command.
func (r *Runtime) WriteReady(ctx context.Context, id string, pid int, content string) error {
	var err error
	if pid == 0 { // a node on another host (Node.Remote): its agent writes it
		_, err = r.callAgent(ctx, id, AgentRequest{Op: AgentReady, Content: content})
	} else {
		err = WriteReadyFile(pid, content)
	}
	if err != nil {
		return fmt.Errorf("write the ready file of pod %s: %w", id, err)
	}
	return nil
}
