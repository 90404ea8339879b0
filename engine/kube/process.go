package kube

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/wire"
)

// A pod's process, found on this machine or by the agent of its host, and
// what the runtime does to it there; the pod's place among the hosts.

// LocalNode finds the process of the container with that CRI id on this
// machine, and its instance (nodeinit.Instance): pid 0 when it is not here.
func LocalNode(cid string) (pid int, netns string, err error) {
	pid, err = containerPid(cid)
	if err != nil || pid == 0 {
		return 0, "", err
	}
	inst, err := nodeinit.Instance(fmt.Sprint(pid))
	if err != nil {
		return 0, "", fmt.Errorf("process %d: %w", pid, err)
	}
	return pid, inst, nil
}

// remote is the session with the agent that wires node n, nil when this
// machine wires it.
func (r *Runtime) remote(ctx context.Context, n engine.Node) (*agentConn, string, error) {
	if !n.Remote {
		return nil, "", nil
	}
	pod, err := r.pod(ctx, n.ID)
	if err != nil {
		return nil, "", err
	}
	c, err := r.agent(ctx, agentHost(pod))
	return c, runningContainer(pod, containerName), err
}

// FinishStart readies a started pod's process for its wiring: the pod
// network's interface moved aside (PodIface) and guarded (wire's
// EnsurePodGuard: no other pod reaches the node by it), and a host name
// with dots set in its UTS namespace ("": none).
func FinishStart(pid int, podIP, hostname string) error {
	if err := movePodIface(pid, podIP); err != nil {
		return err
	}
	ns, err := wire.OpenNS(pid)
	if err != nil {
		return err
	}
	_, err = wire.EnsurePodGuard(ns)
	ns.Close()
	if err != nil {
		return fmt.Errorf("guard the pod network's %s of pid %d: %w", PodIface, pid, err)
	}
	if hostname != "" {
		return setHostname(pid, hostname)
	}
	return nil
}

// WriteReadyFile writes a node's ready file into its ready directory,
// through its process pid: its init then starts its command.
func WriteReadyFile(pid int, content string) error {
	dir := fmt.Sprintf("/proc/%d/root%s", pid, nodeinit.ReadyDir)
	if err := os.WriteFile(dir+"/.ready", []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(dir+"/.ready", dir+"/ready")
}

// together asks the scheduler to keep a lab's pods on one host where it
// can (a preferred affinity to the hosts of the lab's other pods): a lab
// that fits on one host needs no tunnel and no span. A pinned node (its
// host: key) needs none.
func together(lab, host string) *corev1.Affinity {
	if host != "" {
		return nil
	}
	return &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{naming.LabelLab: lab}},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

// Inspect returns the node's process: Pid 0 while its container does not
// run. A container whose process is not on this machine (its host is
// another machine) is wired by the agent of its host: the node is Remote
// and its Pid is the one its host sees (NETLAB_KUBE_AGENT=1: every node).
func (r *Runtime) Inspect(ctx context.Context, id string) (engine.Node, error) {
	if n, ok := r.startedNode(id); ok {
		return n, nil
	}
	pod, err := r.pod(ctx, id)
	if err != nil {
		return engine.Node{}, err
	}
	return r.inspectPod(ctx, id, pod)
}

// inspectPod is Inspect of the node's pod as last read.
func (r *Runtime) inspectPod(ctx context.Context, id string, pod *corev1.Pod) (engine.Node, error) {
	cid := runningContainer(pod, containerName)
	if cid == "" {
		return engine.Node{ID: id}, nil
	}
	if !forceAgent() && !hasPodAgent(pod) {
		pid, netns, err := LocalNode(cid)
		if err != nil {
			return engine.Node{}, fmt.Errorf("inspect pod %s: %w", id, err)
		}
		if pid != 0 {
			return engine.Node{ID: id, Pid: pid, NetNS: netns}, nil
		}
	}
	c, err := r.agent(ctx, agentHost(pod))
	if err != nil {
		return engine.Node{}, fmt.Errorf("inspect pod %s: its container runs on host %s, whose processes this machine does not see: %w", id, pod.Spec.NodeName, err)
	}
	rep, err := c.call(ctx, AgentRequest{Op: AgentNode, Container: cid})
	if err != nil {
		return engine.Node{}, fmt.Errorf("inspect pod %s: %w", id, err)
	}
	return engine.Node{ID: id, NetNS: rep.NetNS, Remote: true}, nil
}

// startedPod is a pod that Start found running with its process on this
// machine: its container's CRI id and the node it returned.
type startedPod struct {
	cid  string
	node engine.Node
}

// remember keeps a pod that Start found running here, for Inspect: the
// steps after a node's start (its /etc/hosts) asked the API for its pod
// again, one request more a node of an up.
func (r *Runtime) remember(id, cid string, n engine.Node) {
	r.agentMu.Lock()
	defer r.agentMu.Unlock()
	if r.started == nil {
		r.started = map[string]startedPod{}
	}
	r.started[id] = startedPod{cid: cid, node: n}
}

// startedNode is the node as Start found it, while its process is still
// its container's first one (a container that ended, or a pod made again,
// is asked for again); forget drops it.
func (r *Runtime) startedNode(id string) (engine.Node, bool) {
	r.agentMu.Lock()
	p, ok := r.started[id]
	r.agentMu.Unlock()
	if !ok {
		return engine.Node{}, false
	}
	if !IsContainerPid(p.node.Pid, p.cid) {
		r.forget(id)
		return engine.Node{}, false
	}
	return p.node, true
}
