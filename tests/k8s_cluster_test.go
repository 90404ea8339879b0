package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/kube"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
)

// k8sScript is the test cluster's script (docs/kubernetes.md).
const k8sScript = "../scripts/k8s-cluster.sh"

// needK8s skips a test of the Kubernetes test cluster unless NETLAB_K8S=1:
// its first run builds Kubernetes from source (about 18 minutes on 2
// cores; `make kube-build` does it ahead), and it needs a -timeout of 20m or
// more.
func needK8s(t *testing.T) {
	t.Helper()
	if os.Getenv("NETLAB_K8S") != "1" {
		t.Skip("the Kubernetes test cluster runs only with NETLAB_K8S=1")
	}
}

// k8sRun runs the cluster's script or its kubectl, failing the test on an
// error, and returns its standard output.
func k8sRun(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// k8sHost is what the cluster may change on the host and its down must
// put back: the sysctls kubelet sets, the paths kubelet, containerd and the
// script use, the veth to the control plane, cgroups, mounts and
// processes.
type k8sHost struct {
	sysctls   []string
	paths     []string // those that exist
	link      bool     // nlk8s0 exists
	cgroups   []string
	mounts    []string // mount points of the cluster's
	processes []string // pids in the cluster's cgroups
}

func k8sHostState(t *testing.T) k8sHost {
	t.Helper()
	var h k8sHost
	for _, k := range []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"} {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			t.Fatal(err)
		}
		h.sysctls = append(h.sysctls, k+"="+strings.TrimSpace(string(b)))
	}
	for _, p := range []string{"/var/lib/kubelet", "/var/lib/cni", "/var/log/pods", "/var/log/containers",
		"/run/netns", "/run/containerd", "/var/lib/netlab-k8s", "/run/netlab-k8s", "/etc/cni", "/var/lib/containerd"} {
		if _, err := os.Lstat(p); err == nil {
			h.paths = append(h.paths, p)
		}
	}
	_, err := os.Stat("/sys/class/net/nlk8s0")
	h.link = err == nil
	h.cgroups, _ = filepath.Glob("/sys/fs/cgroup/*/netlab-k8s")
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (strings.Contains(f[4], "netlab-k8s") || strings.HasPrefix(f[4], "/var/lib/kubelet")) {
			h.mounts = append(h.mounts, f[4])
		}
	}
	procs, _ := filepath.Glob("/sys/fs/cgroup/pids/netlab-k8s/*/*/cgroup.procs")
	for _, f := range procs {
		b, _ := os.ReadFile(f)
		h.processes = append(h.processes, strings.Fields(string(b))...)
	}
	return h
}

func (h k8sHost) diff(after k8sHost) []string {
	var d []string
	cmp := func(what string, a, b []string) {
		if !slices.Equal(a, b) {
			d = append(d, what+": before "+strings.Join(a, " ")+"; after "+strings.Join(b, " "))
		}
	}
	cmp("sysctls", h.sysctls, after.sysctls)
	cmp("paths", h.paths, after.paths)
	cmp("cgroups", h.cgroups, after.cgroups)
	cmp("mounts", h.mounts, after.mounts)
	cmp("processes", h.processes, after.processes)
	if h.link != after.link {
		d = append(d, "link nlk8s0 is left")
	}
	return d
}

// TestK8sCluster brings the test cluster up (a control plane and two
// simulated hosts), runs a pod with NET_ADMIN on each host, uses the
// capability through kubectl exec, pings from one host's pod to the
// other's, and takes the cluster down: the host must be as it was.
func TestK8sCluster(t *testing.T) {
	serial(t)
	needK8s(t)
	before := k8sHostState(t)
	if len(before.cgroups) > 0 || before.link {
		t.Fatalf("a test cluster is up already (%v); scripts/k8s-cluster.sh down removes it", before.cgroups)
	}
	down := func() { k8sRun(t, 3*time.Minute, k8sScript, "down") }
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// On failure: the logs, then down, still checked.
		out, _ := exec.Command("sh", "-c", "tail -n 30 /var/lib/netlab-k8s/log/*.log").CombinedOutput()
		t.Logf("cluster logs:\n%s", out)
		down()
	})
	k8sRun(t, 40*time.Minute, k8sScript, "up")
	kubectl := func(args ...string) string {
		t.Helper()
		return k8sRun(t, 2*time.Minute, "/var/lib/netlab-k8s/bin/kubectl",
			append([]string{"--kubeconfig", "/var/lib/netlab-k8s/admin.kubeconfig"}, args...)...)
	}
	for _, n := range []string{"1", "2"} {
		manifest := `apiVersion: v1
kind: Pod
metadata: {name: smoke-h` + n + `, namespace: default}
spec:
  nodeName: netlab-h` + n + `
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: netlab.local/tiny:1
    imagePullPolicy: Never
    command: [/bin/sleep, infinity]
    securityContext: {capabilities: {add: [NET_ADMIN]}}
`
		f := filepath.Join(t.TempDir(), "pod.yaml")
		if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		kubectl("apply", "-f", f)
	}
	kubectl("wait", "--for=condition=Ready", "pod/smoke-h1", "pod/smoke-h2", "--timeout=90s")
	// NET_ADMIN: change an interface, which needs the capability.
	if got := kubectl("exec", "smoke-h1", "--", "sh", "-c", "ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu"); strings.TrimSpace(got) != "1400" {
		t.Fatalf("exec in smoke-h1: lo's mtu is %q after setting it to 1400", got)
	}
	ip := strings.TrimSpace(kubectl("get", "pod", "smoke-h2", "-o", "jsonpath={.status.podIP}"))
	if !strings.HasPrefix(ip, "198.19.2.") {
		t.Fatalf("smoke-h2's address is %q, not on host h2's pod network 198.19.2.0/24", ip)
	}
	// From a pod on h1 to a pod on h2, across the simulated hosts' bridge.
	kubectl("exec", "smoke-h1", "--", "ping", "-c", "1", "-W", "5", ip)
	t.Run("runtime", func(t *testing.T) { testKubeRuntime(t) })
	down()
	if d := before.diff(k8sHostState(t)); len(d) > 0 {
		t.Fatalf("the host is not as it was after down:\n%s", strings.Join(d, "\n"))
	}
}

// testKubeRuntime runs a node through engine/kube on the test cluster: its
// pod has netlab's init as PID 1, which starts the node's command once the
// ready file names the pod's instance, as on the other runtimes; exec,
// logs, list, the node's process and namespaces seen from this machine,
// and removal.
func testKubeRuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rt, err := kube.New("/var/lib/netlab-k8s/admin.kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	inst, release, err := engine.InstallInit(netlabBin)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	lab := labName(t)
	t.Cleanup(func() {
		if err := rt.RemoveLab(context.Background(), lab); err != nil {
			t.Error(err)
		}
		// Create made the node's run directory, as on every runtime.
		if err := engine.RemoveRunDir(lab); err != nil {
			t.Error(err)
		}
		os.Remove(filepath.Join(engine.RunDir, "."+lab+".lock"))
	})
	c := &planner.Container{
		Name: lab + "_n1", Image: "netlab.local/tiny:1",
		Command: []string{"echo started $WHO; exec sleep infinity"},
		Env:     map[string]string{"WHO": "n1"},
		CapAdd:  []string{"NET_ADMIN"},
		Labels:  map[string]string{naming.LabelLab: lab, naming.LabelNode: "n1"},
	}
	hosts := []planner.Host{{Addr: netip.MustParseAddr("192.0.2.9"), Names: []string{"peer"}}}
	if ok, err := rt.HasImage(ctx, c.Image); err != nil || !ok {
		t.Fatalf("HasImage(%s) = %v, %v; want true", c.Image, ok, err)
	}
	if ok, err := rt.HasImage(ctx, "netlab.local/none:1"); err != nil || ok {
		t.Fatalf("HasImage(netlab.local/none:1) = %v, %v; want false", ok, err)
	}
	id, err := rt.Create(ctx, lab, c, hosts, inst.Init)
	if err != nil {
		t.Fatal(err)
	}
	node, err := rt.Start(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if node.Pid == 0 || !strings.HasPrefix(node.NetNS, "net:[") {
		t.Fatalf("started node: %+v", node)
	}
	// The wiring reaches the pod's network namespace from this machine, whose
	// pod network interface Start renamed out of the lab's way.
	if out, err := exec.Command("nsenter", "-t", fmt.Sprint(node.Pid), "-n", "ip", "-o", "link", "show", kube.PodIface).CombinedOutput(); err != nil {
		t.Fatalf("nsenter into the pod's network namespace: %v: %s", err, out)
	}
	// The init waits for the ready file before it runs the command.
	var logs bytes.Buffer
	if err := rt.Logs(ctx, id, false, "all", &logs, &logs); err != nil || strings.Contains(logs.String(), "started") {
		t.Fatalf("the command ran before the ready file (logs %q, %v)", logs.String(), err)
	}
	ready := fmt.Sprintf("/proc/%d/root%s/ready", node.Pid, nodeinit.ReadyDir)
	if err := os.WriteFile(ready, []byte(node.NetNS), 0o644); err != nil {
		t.Fatal(err)
	}
	for logs.Reset(); !strings.Contains(logs.String(), "started n1"); time.Sleep(200 * time.Millisecond) {
		logs.Reset()
		if err := rt.Logs(ctx, id, false, "10", &logs, &logs); err != nil || ctx.Err() != nil {
			t.Fatalf("logs: %q, %v, %v", logs.String(), err, ctx.Err())
		}
	}
	var out, stderr bytes.Buffer
	code, err := rt.Exec(ctx, id, []string{"sh", "-c", "ip link set lo mtu 1300 && cat /sys/class/net/lo/mtu; grep peer /etc/hosts; tr '\\0' ' ' </proc/1/cmdline; echo oops >&2; exit 3"},
		engine.Stdio{Out: &out, Err: &stderr})
	if err != nil || code != 3 {
		t.Fatalf("exec: code %d, %v; stdout %q stderr %q", code, err, out.String(), stderr.String())
	}
	for _, want := range []string{"1300", "192.0.2.9\tpeer", nodeinit.Path + " _init -- /bin/sh -c"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("exec output %q lacks %q", out.String(), want)
		}
	}
	if stderr.String() != "oops\n" {
		t.Errorf("exec stderr %q, want oops", stderr.String())
	}
	code, err = rt.Exec(ctx, id, []string{"cat"}, engine.Stdio{In: strings.NewReader("through stdin"), Out: &out})
	if err != nil || code != 0 || !strings.HasSuffix(out.String(), "through stdin") {
		t.Errorf("exec with stdin: code %d, %v, output %q", code, err, out.String())
	}
	list, err := rt.List(ctx, lab)
	if err != nil || len(list) != 1 || list[0].Node != "n1" || list[0].State != "running" || list[0].Runtime != kube.Name || list[0].Labels[naming.LabelLab] != lab {
		t.Fatalf("List(%s) = %+v, %v", lab, list, err)
	}
	if died, err := rt.Died(ctx, lab, map[string]time.Time{"n1": time.Now().Add(-time.Minute)}); err != nil || len(died) != 0 {
		t.Errorf("Died: %v %v, want none (the node runs)", died, err)
	}
	if err := rt.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Inspect(ctx, id); !errors.Is(err, engine.ErrNoContainer) {
		t.Errorf("Inspect after Remove: %v, want no such container", err)
	}
	if err := rt.RemoveLab(ctx, lab); err != nil {
		t.Fatal(err)
	}
	if list, err := rt.List(ctx, lab); err != nil || len(list) != 0 {
		t.Fatalf("List after RemoveLab = %+v, %v", list, err)
	}
}
