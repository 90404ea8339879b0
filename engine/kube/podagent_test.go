package kube

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
)

func TestWithPodAgent(t *testing.T) {
	c := &planner.Container{Name: "lab_a", Image: "netlab/tiny", Command: []string{"sleep", "infinity"},
		Labels: map[string]string{naming.LabelLab: "lab", naming.LabelNode: "a"}}
	argv, _, err := engine.NodeArgv(c, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := podSpec("lab", c, nil, "/var/lib/netlab/init/x/netlab-init", argv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hasPodAgent(pod) || agentHost(pod) != "" {
		t.Fatalf("a pod without its own agent: has one (%v), host %q", hasPodAgent(pod), agentHost(pod))
	}
	withPodAgent(pod, "reg/netlab-agent:1")
	pod.Namespace, pod.Spec.NodeName = Namespace("lab"), "h1"

	// netlab's init: from the pod's own volume, copied by the first init
	// container; no host path is left.
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a host path", v.Name)
		}
		if v.Name == "init" && v.EmptyDir == nil {
			t.Errorf("init volume %+v, want an empty dir", v.VolumeSource)
		}
	}
	node := pod.Spec.Containers[0]
	var initMount *corev1.VolumeMount
	for i, m := range node.VolumeMounts {
		if m.Name == "init" {
			initMount = &node.VolumeMounts[i]
		}
	}
	if initMount == nil || initMount.MountPath != nodeinit.Path || initMount.SubPath != "init" || !initMount.ReadOnly {
		t.Errorf("the node's init mount %+v, want %s from the volume's file init, read only", initMount, nodeinit.Path)
	}
	if len(pod.Spec.InitContainers) != 2 {
		t.Fatalf("init containers %d, want the init's copy and the agent", len(pod.Spec.InitContainers))
	}
	cp, agent := pod.Spec.InitContainers[0], pod.Spec.InitContainers[1]
	if cp.RestartPolicy != nil || !slices.Equal(cp.Command, []string{"/netlab", "_agent", "install", "/install"}) || cp.Image != "reg/netlab-agent:1" {
		t.Errorf("the init's copy: %+v", cp)
	}
	// The agent: a sidecar (it keeps running beside the node, and ends
	// with it), the ready directory shared, its capabilities its own.
	if agent.Name != PodAgentContainer || agent.RestartPolicy == nil || *agent.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("the agent %s is not a sidecar: restart policy %v", agent.Name, agent.RestartPolicy)
	}
	if len(agent.VolumeMounts) != 1 || agent.VolumeMounts[0].Name != "ready" || agent.VolumeMounts[0].MountPath != nodeinit.ReadyDir {
		t.Errorf("the agent's mounts %+v, want only the ready directory at %s", agent.VolumeMounts, nodeinit.ReadyDir)
	}
	if !slices.Equal(agent.SecurityContext.Capabilities.Add, podAgentCaps) || !slices.Equal(agent.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) || node.SecurityContext.Capabilities.Add != nil && slices.Contains(node.SecurityContext.Capabilities.Add, "SYS_ADMIN") {
		t.Errorf("capabilities: agent %v, node %v", agent.SecurityContext.Capabilities.Add, node.SecurityContext.Capabilities.Add)
	}
	if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		t.Error("the pod shares its processes: netlab's init would not be the node's PID 1")
	}
	if !hasPodAgent(pod) || agentHost(pod) != "pod:netlab-lab/a" {
		t.Errorf("own agent %v, host %q", hasPodAgent(pod), agentHost(pod))
	}
	pod.Status.PodIP = "10.88.0.7"
	place, err := placeOf("lab_a", pod)
	if err != nil || place.Host != "pod:netlab-lab/a" || place.Addr.String() != "10.88.0.7" {
		t.Errorf("place %+v, %v: want a host of its own", place, err)
	}
	pod.Status.InitContainerStatuses = []corev1.ContainerStatus{
		{Name: podInitContainer, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
		{Name: PodAgentContainer, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "no such image"}}},
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}}
	if got := waitingReason(pod); got != "ErrImagePull no such image" {
		t.Errorf("waiting reason %q, want the agent's image error", got)
	}
}

func TestAllThisMachine(t *testing.T) {
	host := func(id string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: id}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{MachineID: id}}}
	}
	for _, c := range []struct {
		hosts []corev1.Node
		self  string
		want  bool
	}{
		{[]corev1.Node{host("m1"), host("m1")}, "m1", true},
		{[]corev1.Node{host("m1"), host("m2")}, "m1", false},
		{[]corev1.Node{host("m2")}, "m1", false},
		{[]corev1.Node{host("")}, "", false},
		{nil, "m1", false},
	} {
		if got := allThisMachine(c.hosts, c.self); got != c.want {
			t.Errorf("allThisMachine(%v, %q) = %v, want %v", c.hosts, c.self, got, c.want)
		}
	}
}
