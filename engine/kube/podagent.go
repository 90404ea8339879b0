package kube

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/netlab/netlab/nodeinit"
)

// Where no agent runs: a cluster whose hosts are not this machine and run
// no netlab agent (its DaemonSet needs the host's network and processes,
// which a cluster's owner may not grant) gets an agent in every pod
// instead. The pod's agent is netlab's agent image as a sidecar (an init
// container that keeps running): it shares the pod's network namespace and
// nothing else, and wires that one pod as a host's agent wires the pods of
// its host. Each pod is then a host of its own: every link is a VXLAN
// tunnel between two pods, also where both run on one host, and a lab
// network is a bridge in each member pod joined by a span to the other
// members (the fallback the agent's veths and host bridges spare).
//
// The node keeps its own first process: the pod does not share its
// processes, so netlab's init stays PID 1 and its reaper; the ready file
// is on a volume both containers mount; /etc/hosts and the host name are
// the pod's, shared. netlab's init comes from the same image, copied by an
// init container (there is no host agent to put it on the host).

// PodAgentContainer is the agent's sidecar in a pod wired by its own
// agent.
const PodAgentContainer = "netlab"

// podInitContainer copies netlab's init into the pod.
const podInitContainer = "netlab-init"

// PodAgentEnv marks the sidecar's environment: the agent's sessions there
// wire their own pod.
const PodAgentEnv = "NETLAB_POD_AGENT"

// podAgentImage is the agent's image for the pods' agents:
// NETLAB_KUBE_AGENT_IMAGE, else the image k8s/agent.yaml names.
func podAgentImage() string {
	if img := os.Getenv("NETLAB_KUBE_AGENT_IMAGE"); img != "" {
		return img
	}
	return "netlab/agent:1"
}

// podAgentCaps are the sidecar's capabilities (every other one dropped):
// the pod's interfaces, bridges and nftables tables
// (NET_ADMIN), raw sockets for probes and captures (NET_RAW), entering the
// pod's namespaces by its process and setting the pod's host name
// (SYS_ADMIN), a DHCP server's port (NET_BIND_SERVICE).
var podAgentCaps = []corev1.Capability{"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "NET_BIND_SERVICE"}

// usePodAgents decides, when a lab's pods are made, whether each carries
// its own agent: NETLAB_KUBE_AGENT=pod says so, =1 says the hosts'
// agents; else where the cluster runs netlab's agent, or every host of it
// is this machine (the test cluster: kubelets report this machine's
// machine id), no; else yes.
func (r *Runtime) usePodAgents(ctx context.Context) (bool, error) {
	switch os.Getenv("NETLAB_KUBE_AGENT") {
	case "pod":
		return true, nil
	case "1":
		return false, nil
	}
	r.agentMu.Lock()
	decided, use := r.podAgentsDecided, r.podAgents
	r.agentMu.Unlock()
	if decided {
		return use, nil
	}
	agents, err := r.agentPods(ctx, "")
	if err != nil {
		return false, err
	}
	if len(agents) == 0 {
		nodes, err := r.core.Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, fmt.Errorf("list the cluster's hosts: %w", err)
		}
		id, _ := os.ReadFile("/etc/machine-id")
		use = !allThisMachine(nodes.Items, strings.TrimSpace(string(id)))
	}
	r.agentMu.Lock()
	r.podAgentsDecided, r.podAgents = true, use
	r.agentMu.Unlock()
	return use, nil
}

// allThisMachine tells whether every host is this machine (machine id
// self): its pods' processes are this machine's.
func allThisMachine(hosts []corev1.Node, self string) bool {
	if self == "" || len(hosts) == 0 {
		return false
	}
	for _, h := range hosts {
		if h.Status.NodeInfo.MachineID != self {
			return false
		}
	}
	return true
}

// withPodAgent gives pod its own agent: netlab's init copied from the
// agent's image into a volume of the pod (in place of the host's copy),
// and the agent as a sidecar that mounts the ready file's directory.
func withPodAgent(pod *corev1.Pod, image string) {
	spec := &pod.Spec
	for i, v := range spec.Volumes {
		if v.Name == "init" {
			spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}
	}
	node := &spec.Containers[0]
	for i, m := range node.VolumeMounts {
		if m.Name == "init" {
			node.VolumeMounts[i].SubPath = "init"
		}
	}
	always := corev1.ContainerRestartPolicyAlways
	spec.InitContainers = append(spec.InitContainers,
		corev1.Container{
			Name:            podInitContainer,
			Image:           image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{"/netlab", "_agent", "install", "/install"},
			VolumeMounts:    []corev1.VolumeMount{{Name: "init", MountPath: "/install"}},
		},
		corev1.Container{
			Name:            PodAgentContainer,
			Image:           image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			RestartPolicy:   &always,
			Command:         []string{"/netlab", "_agent", "pod"},
			Env: []corev1.EnvVar{
				{Name: PodAgentEnv, Value: "1"},
				{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
			SecurityContext: &corev1.SecurityContext{
				Capabilities: &corev1.Capabilities{Add: podAgentCaps, Drop: []corev1.Capability{"ALL"}},
				// Its own /proc/sys made writable, for the pod's bridges'
				// netfilter switches (wire.BridgeNetfilterOff): a remount,
				// which container runtimes' AppArmor profiles refuse.
				AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "ready", MountPath: nodeinit.ReadyDir}},
		})
}

// hasPodAgent tells whether pod carries its own agent.
func hasPodAgent(pod *corev1.Pod) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == PodAgentContainer {
			return true
		}
	}
	return false
}

// podHostPrefix begins the host of a pod that is its own (Place.Host).
const podHostPrefix = "pod:"

// ownHost tells whether host is a pod that is its own (agentHost).
func ownHost(host string) bool { return strings.HasPrefix(host, podHostPrefix) }

// agentHost is the host whose agent wires pod: its own ("pod:NAMESPACE/POD"),
// or the cluster's host it runs on.
func agentHost(pod *corev1.Pod) string {
	if hasPodAgent(pod) {
		return podHostPrefix + pod.Namespace + "/" + pod.Name
	}
	return pod.Spec.NodeName
}

// agentTarget is where the agent of host runs: a namespace, a pod and
// its container.
type agentTarget struct{ ns, pod, container string }

// target finds the agent of host: a pod's own, or the agent pod of a
// cluster's host.
func (r *Runtime) target(ctx context.Context, host string) (agentTarget, error) {
	if rest, ok := strings.CutPrefix(host, podHostPrefix); ok {
		ns, pod, _ := strings.Cut(rest, "/")
		return agentTarget{ns: ns, pod: pod, container: PodAgentContainer}, nil
	}
	pod, err := r.agentPod(ctx, host)
	return agentTarget{ns: AgentNamespace, pod: pod, container: agentContainer}, err
}

// signalInNode sends a pod's node SIGTERM or SIGKILL from inside it, by
// netlab's init there (its _signal mode): where the node's agent is the
// pod's own, no agent sees the node's processes.
func (r *Runtime) signalInNode(ctx context.Context, pod *corev1.Pod, sig syscall.Signal) error {
	name := "TERM"
	if sig == syscall.SIGKILL {
		name = "KILL"
	}
	var stderr strings.Builder
	err := r.stream(ctx, pod.Namespace, pod.Name, containerName, []string{nodeinit.Path, "_signal", name},
		remotecommand.StreamOptions{Stdout: io.Discard, Stderr: &stderr})
	if msg := strings.TrimSpace(stderr.String()); err != nil && msg != "" {
		err = fmt.Errorf("%w: %s", err, msg)
	}
	return err
}
