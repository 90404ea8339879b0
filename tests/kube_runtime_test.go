package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/netlab/netlab/engine/kube"
	"github.com/netlab/netlab/naming"
)

// testClusterConfig is the kubeconfig of the test cluster that
// scripts/k8s-cluster.sh up makes.
const testClusterConfig = "/var/lib/netlab-k8s/admin.kubeconfig"

// needKubeRuntime skips a test of the kubernetes runtime unless the tests
// run on it (NETLAB_RUNTIME=kubernetes) with a cluster's kubeconfig
// (KUBECONFIG), and returns that. On the test cluster it loads netlab/tiny
// and images from this machine's Docker engine into the cluster's hosts
// first (each once per image id).
func needKubeRuntime(t *testing.T, images ...string) string {
	t.Helper()
	cfg := os.Getenv("KUBECONFIG")
	if runtime != "kubernetes" || cfg == "" {
		t.Skip("the kubernetes runtime's tests run with NETLAB_RUNTIME=kubernetes and KUBECONFIG " +
			"(eval \"$(scripts/k8s-cluster.sh env)\" after scripts/k8s-cluster.sh up)")
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("KUBECONFIG: %v", err)
	}
	if cfg == testClusterConfig {
		k8sRun(t, 10*time.Minute, k8sScript, append([]string{"load-docker", "netlab/tiny"}, images...)...)
	}
	return cfg
}

// TestKubernetesP2P brings the two-node lab up as pods, pings across its
// link, reads its status, runs commands in a node (exit codes, logs), and
// downs it: the lab's namespace and everything of it on this machine gone.
func TestKubernetesP2P(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t)
	l := up(t, `defaults:
  image: netlab/tiny
nodes:
  a:
    command: [sh, -c, "echo hello from a; exec sleep 3600"]
    interfaces:
      eth0: {address: 10.1.1.1/32}
    routes:
      - {to: 10.1.1.2/32, dev: eth0}
  b:
    interfaces:
      eth0: {address: 10.1.1.2/32}
    routes:
      - {to: 10.1.1.1/32, dev: eth0}
links:
  - [a:eth0, b:eth0]
checks:
  - {from: a, ping: b}
  - {from: b, ping: a}
`)
	if r := netlab(t, "exec", l.name, "a", "--", "ping", "-c", "1", "-W", "2", "10.1.1.2"); r.code != 0 {
		t.Errorf("ping b from a: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "check", l.file); r.code != 0 {
		t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := netlab(t, "status", "--json", l.name)
	if r.code != 0 {
		t.Fatalf("netlab status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var status map[string][]struct {
		Node       string `json:"node"`
		Runtime    string `json:"runtime"`
		State      string `json:"state"`
		Ready      bool   `json:"ready"`
		Interfaces []struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addrs"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if len(status[l.name]) != 2 {
		t.Fatalf("status: %d nodes, want 2\n%s", len(status[l.name]), r.stdout)
	}
	for _, n := range status[l.name] {
		names := map[string]string{}
		for _, i := range n.Interfaces {
			names[i.Name] = strings.Join(i.Addrs, " ")
		}
		if n.Runtime != "kubernetes" || n.State != "running" || !n.Ready || !strings.HasPrefix(names["eth0"], "10.1.1.") {
			t.Errorf("node %s: runtime %s, state %s, ready %v, interfaces %v", n.Node, n.Runtime, n.State, n.Ready, names)
		}
		if _, ok := names[kube.PodIface]; !ok {
			t.Errorf("node %s: no pod network interface %s: %v", n.Node, kube.PodIface, names)
		}
	}
	if r := netlab(t, "exec", l.name, "b", "--", "sh", "-c", "echo out; echo err >&2; exit 3"); r.code != 3 ||
		r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("exec: exit %d, stdout %q, stderr %q; want 3, out, err", r.code, r.stdout, r.stderr)
	}
	if r := netlab(t, "logs", l.name, "a"); r.code != 0 || !strings.Contains(r.stdout, "hello from a") {
		t.Errorf("logs: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	l.down()
	kubeGone(t, cfg, l.name)
}

// kubeClient is a client of the cluster of kubeconfig cfg.
func kubeClient(t *testing.T, cfg string) *kubernetes.Clientset {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// kubeGone checks that nothing of a lab that was downed is left in the
// cluster (its namespace, and with it every pod) or on this machine (its
// run directory; l.down checked the rest).
func kubeGone(t *testing.T, cfg, lab string) {
	t.Helper()
	ns := kube.Namespace(lab)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kubeClient(t, cfg).CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s after down: %v, want not found", ns, err)
	}
	if _, err := os.Stat("/run/netlab/" + lab); !os.IsNotExist(err) {
		t.Errorf("run directory after down: %v", err)
	}
}

// TestKubernetesChainAcrossHosts brings up a chain of four nodes, the
// first two pinned to one of the test cluster's hosts and the last two to
// the other (the node's host: key): the pods run where they were pinned,
// the link between the hosts is a VXLAN tunnel over the pod network (its
// ends 50 bytes short of the pod network's MTU) while the others are
// veths, the ends ping each other through both routers, the lab's check
// passes, and down leaves nothing in the cluster or on the host.
func TestKubernetesChainAcrossHosts(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t)
	needAgent(t, cfg)
	l := up(t, `defaults:
  image: netlab/tiny
nodes:
  a:
    host: netlab-h1
    interfaces:
      eth0: {address: 10.7.1.1/24}
    gateway: 10.7.1.2
  b:
    host: netlab-h1
    forward: true
    interfaces:
      eth0: {address: 10.7.1.2/24}
      eth1: {address: 10.7.2.1/24}
    routes:
      - {to: 10.7.3.0/24, via: 10.7.2.2}
  c:
    host: netlab-h2
    forward: true
    interfaces:
      eth0: {address: 10.7.2.2/24}
      eth1: {address: 10.7.3.1/24}
    routes:
      - {to: 10.7.1.0/24, via: 10.7.2.1}
    firewall: {input: drop, output: drop}  # the lab's policy: its tunnel to b still carries
  d:
    host: netlab-h2
    interfaces:
      eth0: {address: 10.7.3.2/24}
    gateway: 10.7.3.1
links:
  - [a:eth0, b:eth0]
  - [b:eth1, c:eth0]
  - [c:eth1, d:eth0]
checks:
  - {from: a, ping: d}
  - {from: d, ping: a}
`, viaAgent)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pods, err := kubeClient(t, cfg).CoreV1().Pods(kube.Namespace(l.name)).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("the lab's pods: %v", err)
	}
	want := map[string]string{"a": "netlab-h1", "b": "netlab-h1", "c": "netlab-h2", "d": "netlab-h2"}
	got := map[string]string{}
	for _, p := range pods.Items {
		got[p.Name] = p.Spec.NodeName
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pods on hosts %v, want %v", got, want)
	}
	for _, x := range []struct{ node, iface, devtype, mtu string }{
		{"a", "eth0", "", "1500"}, {"b", "eth1", "vxlan", "1450"}, {"c", "eth0", "vxlan", "1450"}, {"d", "eth0", "", "1500"},
	} {
		out, code := l.exec(x.node, "cat", "/sys/class/net/"+x.iface+"/uevent", "/sys/class/net/"+x.iface+"/mtu")
		devtype := ""
		if _, rest, ok := strings.Cut(out, "DEVTYPE="); ok {
			devtype, _, _ = strings.Cut(rest, "\n")
		}
		lines := strings.Fields(out)
		if code != 0 || devtype != x.devtype || len(lines) == 0 || lines[len(lines)-1] != x.mtu {
			t.Errorf("%s:%s: device type %q (want %q), MTU %v (want %s), exit %d\n%s", x.node, x.iface, devtype, x.devtype, lines, x.mtu, code, out)
		}
	}
	// Three hops, the middle one between the hosts: TTL 64 less 2.
	if out, code := l.exec("a", "ping", "-c", "2", "-W", "2", "10.7.3.2"); code != 0 || !strings.Contains(out, "ttl=62") {
		t.Errorf("ping d from a: exit %d\n%s", code, out)
	}
	if r := netlab(t, "check", l.file); r.code != 0 {
		t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The agents read the nodes' interfaces for status, and a second up
	// through them finds the lab whole.
	r := runEnv(t, []string{viaAgent}, netlabBin, "status", "--json", l.name)
	var st map[string][]struct {
		Node       string
		Ready      bool
		Interfaces []struct {
			Name  string
			Addrs []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); r.code != 0 || err != nil {
		t.Fatalf("netlab status --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	addrs := map[string]string{}
	for _, n := range st[l.name] {
		for _, i := range n.Interfaces {
			addrs[n.Node+":"+i.Name] = strings.Join(i.Addrs, ",")
		}
		if !n.Ready {
			t.Errorf("status: node %s not ready", n.Node)
		}
	}
	if addrs["b:eth1"] != "10.7.2.1/24" || addrs["c:eth0"] != "10.7.2.2/24" || addrs["d:eth0"] != "10.7.3.2/24" {
		t.Errorf("status through the agents: addresses %v", addrs)
	}
	// The pod network reaches no node but as its tunnels' peers: a goes
	// out on it (to its host's address), and cannot reach c's or d's pod
	// there.
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "2", "-I", "pod0", "198.18.250.11"); code != 0 {
		t.Errorf("a pings its host h1 on the pod network: exit %d\n%s", code, out)
	}
	for _, n := range []string{"c", "d"} {
		pod, _, _ := strings.Cut(addrs[n+":pod0"], "/")
		if pod == "" {
			t.Errorf("status shows no pod0 address of %s: %v", n, addrs)
			continue
		}
		if out, code := l.exec("a", "ping", "-c", "1", "-W", "2", "-I", "pod0", pod); code == 0 {
			t.Errorf("a pings %s's pod address %s on the pod network: its pod guard lets it in\n%s", n, pod, out)
		}
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "up", l.file); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "up to date") {
		t.Errorf("a second up through the agents: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An impairment of a link within a host: its relay runs in that host's
	// agent.
	if r := runEnv(t, []string{viaAgent}, netlabBin, "impair", l.name, "a:eth0", "--delay", "100ms"); r.code != 0 {
		t.Errorf("impair a:eth0 through the agent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "2", "-W", "3", "10.7.1.2"); code != 0 || !regexp.MustCompile(`time=(1\d\d|[2-9]\d\d)\.`).MatchString(out) {
		t.Errorf("ping b over a link delayed 100 ms each way: exit %d\n%s", code, out)
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "impair", l.name, "a:eth0", "--clear"); r.code != 0 {
		t.Errorf("impair a:eth0 --clear through the agent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "2", "10.7.1.2"); code != 0 {
		t.Errorf("ping b once the link is plain again: exit %d\n%s", code, out)
	}
	// One across the hosts: the relay runs on b's host, between b's end
	// (a veth now, at the tunnel's MTU) and a tunnel end to c, whose end
	// stays as it was.
	if r := runEnv(t, []string{viaAgent}, netlabBin, "impair", l.name, "b:eth1", "--delay", "100ms"); r.code != 0 {
		t.Errorf("impair b:eth1, across the hosts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	devType := func(node, iface string) (string, string) {
		out, _ := l.exec(node, "cat", "/sys/class/net/"+iface+"/uevent", "/sys/class/net/"+iface+"/mtu")
		devtype := ""
		if _, rest, ok := strings.Cut(out, "DEVTYPE="); ok {
			devtype, _, _ = strings.Cut(rest, "\n")
		}
		f := strings.Fields(out)
		if len(f) == 0 {
			return devtype, ""
		}
		return devtype, f[len(f)-1]
	}
	if dt, mtu := devType("b", "eth1"); dt != "" || mtu != "1450" {
		t.Errorf("b:eth1 impaired across hosts: device type %q, MTU %s; want a veth at the tunnel's 1450", dt, mtu)
	}
	if dt, _ := devType("c", "eth0"); dt != "vxlan" {
		t.Errorf("c:eth0, the far end of the impaired link: device type %q, want vxlan as before", dt)
	}
	// (c's firewall drops what is sent to c itself: d, beyond it.)
	if out, code := l.exec("b", "ping", "-c", "2", "-W", "3", "-s", "1400", "10.7.3.2"); code != 0 || !regexp.MustCompile(`time=(1\d\d|[2-9]\d\d)\.`).MatchString(out) {
		t.Errorf("ping d through the link across hosts delayed 100 ms each way: exit %d\n%s", code, out)
	}
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "3", "10.7.3.2"); code != 0 || !strings.Contains(out, "ttl=62") {
		t.Errorf("ping d from a through the impaired link: exit %d\n%s", code, out)
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "impair", l.name, "b:eth1", "--clear"); r.code != 0 {
		t.Errorf("impair b:eth1 --clear: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if dt, mtu := devType("b", "eth1"); dt != "vxlan" || mtu != "1450" {
		t.Errorf("b:eth1 once plain again: device type %q, MTU %s; want the tunnel again", dt, mtu)
	}
	if out, code := l.exec("b", "ping", "-c", "1", "-W", "2", "10.7.3.2"); code != 0 || regexp.MustCompile(`time=[1-9]\d\d\.`).MatchString(out) {
		t.Errorf("ping d once the link across hosts is plain again: exit %d\n%s", code, out)
	}
	for _, h := range []string{"h1", "h2"} {
		if out := onSimHost(t, h, "ip", "-o", "link"); strings.Contains(out, "netlab:"+l.name+":relay:") {
			t.Errorf("host %s keeps a relay's ends after the impairment was cleared:\n%s", h, out)
		}
	}
	l.down()
	kubeGone(t, cfg, l.name)
}

// viaAgent makes netlab wire every pod through its host's agent, as on a
// cluster whose hosts are other machines.
const viaAgent = "NETLAB_KUBE_AGENT=1"

// needAgent puts netlab's agent, of the tests' build, on the test
// cluster's hosts, once for all the tests (made again, its pods would end
// another test's sessions).
func needAgent(t *testing.T, cfg string) {
	t.Helper()
	if cfg != testClusterConfig {
		t.Skip("the agent's tests put it on the test cluster (scripts/k8s-cluster.sh agent)")
	}
	agentOnce.Do(func() {
		agentErr = exec.Command(k8sScript, "agent", filepath.Dir(netlabBin)).Run()
	})
	if agentErr != nil {
		t.Fatalf("%s agent: %v", k8sScript, agentErr)
	}
}

var (
	agentOnce sync.Once
	agentErr  error
)

// TestKubernetesNetworkAcrossHosts brings up a lab network with members
// on both of the test cluster's hosts, wired through the agents: each host
// has the network's bridge, the bridges are joined by a VXLAN span (up
// says so), the members' interfaces take the span's MTU, they reach each
// other on either host and across (ARP's broadcast crosses), a folder of
// the lab's is a copy in the node that mounts it (executables kept so),
// a capture
// on a member's interface streams its frames, a member's cable pulled and
// put back and the member stopped and started work
// through the agents, an isolated network across hosts is refused with
// the reason, and down leaves nothing on the hosts.
func TestKubernetesNetworkAcrossHosts(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t, "fopnp/base")
	needAgent(t, cfg)
	l := &lab{t: t, name: labName(t)}
	l.file = writeLab(t, l.name, `defaults:
  image: netlab/tiny
networks:
  lan: {}
nodes:
  a: {host: netlab-h1, interfaces: {eth0: {network: lan, address: 10.9.0.1/24}}}
  b: {host: netlab-h2, interfaces: {eth0: {network: lan, address: 10.9.0.2/24}}, volumes: ["./app:/etc/app"]}
  c: {host: netlab-h1, interfaces: {eth0: {network: lan, address: 10.9.0.3/24}}}
  x: {host: netlab-h1, image: fopnp/base}  # on no lab network: it tries to get onto lan by its span
`)
	// A folder of the lab's, which b mounts: on a cluster, a copy.
	app := filepath.Join(filepath.Dir(l.file), "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "hello.sh"), []byte("#!/bin/sh\necho hello from the lab folder\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.down() })
	r := runEnv(t, []string{viaAgent}, netlabBin, withRuntime([]string{"up", l.file})...)
	if r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range []string{"netlab-h1", "netlab-h2"} {
		if !strings.Contains(r.stdout+r.stderr, "network lan spans hosts: on "+h) {
			t.Errorf("up does not say that lan spans hosts on %s:\n%s%s", h, r.stdout, r.stderr)
		}
	}
	for _, x := range []struct{ from, to string }{{"a", "10.9.0.2"}, {"b", "10.9.0.1"}, {"c", "10.9.0.2"}, {"a", "10.9.0.3"}} {
		if out, code := l.exec(x.from, "ping", "-c", "2", "-W", "2", x.to); code != 0 {
			t.Errorf("ping %s from %s: exit %d\n%s", x.to, x.from, code, out)
		}
	}
	if out, code := l.exec("b", "/etc/app/hello.sh"); code != 0 || strings.TrimSpace(out) != "hello from the lab folder" {
		t.Errorf("b runs /etc/app/hello.sh, a copy of the lab folder's: exit %d\n%s", code, out)
	}
	if out, _ := l.exec("b", "cat", "/proc/mounts"); strings.Contains(out, " /etc/app ") {
		t.Errorf("b's /etc/app is a mount, not a copy:\n%s", out)
	}
	if out, _ := l.exec("b", "cat", "/sys/class/net/eth0/mtu"); strings.TrimSpace(out) != "1450" {
		t.Errorf("b:eth0's MTU %q, want the span's 1450", out)
	}
	for _, h := range []string{"h1", "h2"} {
		if out := onSimHost(t, h, "ip", "-d", "link", "show", "type", "vxlan"); !strings.Contains(out, "master nlb") {
			t.Errorf("host %s: no span on a bridge:\n%s", h, out)
		}
		if out := onSimHost(t, h, "nft", "list", "set", "inet", "netlab-span", "hosts4"); !strings.Contains(out, "198.18.250.11") || !strings.Contains(out, "198.18.250.12") {
			t.Errorf("host %s: the span guard does not hold the hosts' addresses:\n%s", h, out)
		}
	}
	// The span guard: x makes up VXLAN packets of lan's span, frames to a,
	// and sends them on the pod network to its own host and to the other
	// (which its host would pass on); none reaches a.
	rx := func() int {
		out, _ := l.exec("a", "cat", "/sys/class/net/eth0/statistics/rx_packets")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		return n
	}
	inject := fmt.Sprintf(`import socket, subprocess
src = subprocess.check_output(["sh", "-c", "ip -4 -o addr show pod0 | awk '{print $4}' | cut -d/ -f1"]).decode().strip()
frame = bytes.fromhex("02420a090001" "020000000099" "88b5") + b"span guard test " * 4
packet = bytes([8, 0, 0, 0]) + (%d).to_bytes(3, "big") + b"\0" + frame
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(100):
    for host in ("198.18.250.11", "198.18.250.12"):
        s.sendto(packet, (host, 4789))
`, naming.SpanVNI(l.name, "lan"))
	before := rx()
	if out, code := l.exec("x", "python3", "-c", inject); code != 0 {
		t.Errorf("x sends made-up span packets: exit %d\n%s", code, out)
	}
	time.Sleep(500 * time.Millisecond)
	if got := rx() - before; got >= 100 {
		t.Errorf("a received %d frames while x sent 200 made-up span packets: the span guard let them in", got)
	}
	// A capture on b's interface, by the agent of b's host, filtered:
	// a's pings arrive as lines, and nothing else.
	capDone := make(chan result, 1)
	go func() {
		capDone <- runEnv(t, []string{viaAgent}, netlabBin, "capture", "--count", "2", "--duration", "30s", l.name, "b:eth0", "icmp")
	}()
	deadline := time.Now().Add(30 * time.Second)
	var capOut result
	for waiting := true; waiting; {
		l.exec("a", "ping", "-c", "1", "-W", "1", "10.9.0.2")
		select {
		case capOut = <-capDone:
			waiting = false
		default:
			if time.Now().After(deadline) {
				t.Fatal("the capture through the agent did not end within 30 s")
			}
		}
	}
	if capOut.code != 0 || !strings.Contains(capOut.stdout, "10.9.0.1 > 10.9.0.2") || !strings.Contains(capOut.stderr, "2 packets captured") {
		t.Errorf("capture b:eth0 icmp through the agent: exit %d\n%s%s", capOut.code, capOut.stdout, capOut.stderr)
	}
	// Faults through the agents: b's cable pulled on its host and put
	// back; b stopped (its interfaces gone with it) and started again,
	// wired anew by the agents.
	if r := runEnv(t, []string{viaAgent}, netlabBin, "link", l.name, "b:eth0", "down"); r.code != 0 || !strings.Contains(r.stdout, "(host side)") {
		t.Errorf("netlab link b:eth0 down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "1", "10.9.0.2"); code == 0 {
		t.Errorf("ping b with its cable pulled: it answered\n%s", out)
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "link", l.name, "b:eth0", "up"); r.code != 0 {
		t.Errorf("netlab link b:eth0 up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "stop", l.name, "b"); r.code != 0 {
		t.Errorf("netlab stop b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "1", "10.9.0.2"); code == 0 {
		t.Errorf("ping b while it is stopped: it answered\n%s", out)
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "start", l.name, "b"); r.code != 0 {
		t.Errorf("netlab start b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "2", "-W", "2", "10.9.0.2"); code != 0 {
		t.Errorf("ping b after its start: exit %d\n%s", code, out)
	}
	l.down()
	kubeGone(t, cfg, l.name)
	for _, h := range []string{"h1", "h2"} {
		if out := onSimHost(t, h, "ip", "-o", "link"); strings.Contains(out, "netlab:"+l.name+":") {
			t.Errorf("host %s keeps the lab's interfaces after down:\n%s", h, out)
		}
		if out := onSimHost(t, h, "nft", "list", "ruleset"); strings.Contains(out, l.name) {
			t.Errorf("host %s keeps the lab's rules after down:\n%s", h, out)
		}
	}

	// An isolated network across the hosts: members on two hosts reach
	// their router and what the allow rule lets through, not each other,
	// on one host or across; a member that takes another MAC reaches
	// nothing beyond its host.
	iso := &lab{t: t, name: labName(t) + "-iso"}
	iso.file = writeLab(t, iso.name, `defaults:
  image: netlab/tiny
networks:
  dmz:
    isolated: true
    allow: [{from: h1, to: h3, proto: tcp, port: 80}]
nodes:
  r: {host: netlab-h1, forward: true, interfaces: {eth0: {network: dmz, address: 10.9.1.1/24}}}
  h1: {host: netlab-h1, interfaces: {eth0: {network: dmz, address: 10.9.1.11/24}}}
  h2: {host: netlab-h2, interfaces: {eth0: {network: dmz, address: 10.9.1.12/24}}}
  h3: {host: netlab-h2, interfaces: {eth0: {network: dmz, address: 10.9.1.13/24}}, command: `+twoPorts+`}
  h4: {host: netlab-h1, interfaces: {eth0: {network: dmz, address: 10.9.1.14/24}}}
`)
	t.Cleanup(func() { iso.down() })
	r = runEnv(t, []string{viaAgent}, netlabBin, withRuntime([]string{"up", iso.file})...)
	if r.code != 0 {
		t.Fatalf("up of an isolated network across hosts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range []string{"h1", "h2", "h3", "h4"} {
		if !iso.reaches(n, "10.9.1.1") {
			t.Errorf("%s does not reach its router r", n)
		}
	}
	if !iso.waitReach("h1", "10.9.1.13", "80") {
		t.Error("allow h1 -> h3 tcp/80 (across the hosts), but h1 cannot reach it")
	}
	for _, x := range [][2]string{{"h1", "10.9.1.12"}, {"h2", "10.9.1.11"}, {"h1", "10.9.1.14"}, {"h2", "10.9.1.13"}, {"h1", "10.9.1.13"}} {
		if iso.reaches(x[0], x[1]) {
			t.Errorf("%s pings %s: members of an isolated network", x[0], x[1])
		}
	}
	for _, x := range [][3]string{{"h1", "10.9.1.13", "22"}, {"h2", "10.9.1.13", "80"}, {"h4", "10.9.1.13", "80"}} {
		if iso.reach(x[0], x[1], x[2]) {
			t.Errorf("%s reaches %s:%s: only h1 -> h3 tcp/80 is allowed", x[0], x[1], x[2])
		}
	}
	if out, code := iso.exec("h2", "ip", "link", "set", "dev", "eth0", "address", "02:00:00:00:00:99"); code != 0 {
		t.Fatalf("h2 takes another MAC: exit %d\n%s", code, out)
	}
	if iso.reaches("h2", "10.9.1.11") || iso.reaches("h2", "10.9.1.1") {
		t.Error("h2, with a MAC not its own, reaches a node on the other host")
	}
	iso.down()
	kubeGone(t, cfg, iso.name)
	for _, h := range []string{"h1", "h2"} {
		if out := onSimHost(t, h, "nft", "list", "ruleset"); strings.Contains(out, iso.name) {
			t.Errorf("host %s keeps the lab's isolation after down:\n%s", h, out)
		}
	}
}

// TestKubernetesDHCPAcrossHosts: netlab's DHCP servers of networks that
// span the hosts, through the agents: one on the bridge, run beside the
// network's first node, one in a router; the nodes on the other host take
// their leases across the span, and a second up finds the lab whole. A
// published UDP port of a node there answers through its agent.
func TestKubernetesDHCPAcrossHosts(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t, "fopnp/base")
	needAgent(t, cfg)
	l := up(t, `defaults: {image: netlab/tiny}
networks:
  lan:
    subnet: 10.9.2.0/24
    dhcp: {range: [10.9.2.100, 10.9.2.199], gateway: 10.9.2.1, dns: [10.9.2.53]}
  far:
    subnet: 10.9.3.0/24
    dhcp: {range: [10.9.3.50, 10.9.3.60], gateway: 10.9.3.1, server: r}
nodes:
  a: {host: netlab-h1, interfaces: {eth0: {network: lan, address: dhcp}}}
  b: {host: netlab-h2, interfaces: {eth0: {network: lan, address: dhcp}}}
  r:
    host: netlab-h1
    forward: true
    interfaces:
      eth0: {network: lan, address: 10.9.2.1/24}
      eth1: {network: far, address: 10.9.3.1/24}
  c: {host: netlab-h2, interfaces: {eth0: {network: far, address: dhcp}}}
  u:
    host: netlab-h2
    image: fopnp/base
    interfaces: {eth0: {network: lan, address: 10.9.2.20/24}}
    command: ["perl", "-MIO::Socket::INET", "-e", "$$s = IO::Socket::INET->new(LocalAddr => q(10.9.2.20:53), Proto => q(udp)) or die qq(udp: $$!); while (defined $$s->recv($$m, 2048)) { $$s->send(qq(echo $$m)) }"]
    publish: ["127.0.0.1:24254:53/udp"]
`, viaAgent)
	// One client, asking again each second as a UDP client does: its
	// session through the agent is an exec, which takes a while to open
	// on a loaded cluster (more than a one-second ask from a new port).
	if got := udpAskAgain("127.0.0.1:24254", "ping", 30*time.Second); got != "echo ping" {
		t.Errorf("udp 127.0.0.1:24254, published by u on the other host, answered %q", got)
	}
	a, _ := l.leased("a")
	b, _ := l.leased("b")
	c, _ := l.leased("c")
	if !inRange(a, "10.9.2.100", "10.9.2.199") || !inRange(b, "10.9.2.100", "10.9.2.199") || a == b {
		t.Errorf("a (host 1) and b (host 2) leased %s and %s, want two addresses of 10.9.2.100-10.9.2.199", a, b)
	}
	if !inRange(c, "10.9.3.50", "10.9.3.60") {
		t.Errorf("c (host 2) leased %s from r (host 1), want one of 10.9.3.50-10.9.3.60", c)
	}
	if out, _ := l.exec("b", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 10.9.2.53") {
		t.Errorf("b's name server is not the lease's:\n%s", out)
	}
	if c.IsValid() && a.IsValid() {
		if out, code := l.exec("c", "ping", "-c", "1", "-W", "2", a.String()); code != 0 || !strings.Contains(out, "ttl=63") {
			t.Errorf("ping a from c through r, by the leases' gateways: exit %d\n%s", code, out)
		}
	}
	if r := runEnv(t, []string{viaAgent}, netlabBin, "up", l.file); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "up to date") {
		t.Errorf("a second up through the agents: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.down()
	kubeGone(t, cfg, l.name)
	for _, h := range []string{"h1", "h2"} {
		if out := onSimHost(t, h, "ip", "-o", "link"); strings.Contains(out, "netlab:"+l.name+":") {
			t.Errorf("host %s keeps the lab's interfaces after down:\n%s", h, out)
		}
	}
}

// udpAskAgain sends msg to addr from one socket each second until a reply
// comes or within runs out, and returns the reply (or the last error).
func udpAskAgain(addr, msg string, within time.Duration) string {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	buf := make([]byte, 2048)
	last := "no reply"
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		if _, err := io.WriteString(c, msg); err != nil {
			last = err.Error()
			time.Sleep(time.Second)
			continue
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n])
		}
		last = err.Error()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			time.Sleep(time.Second) // refused: nothing forwards yet
		}
	}
	return last
}

// onSimHost runs a command in the network namespace of a simulated host
// of the test cluster (h1, h2) and returns its output.
func onSimHost(t *testing.T, host string, argv ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=/run/netlab-k8s/ns/" + host + ".net", "--"}, argv...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("on host %s: %v: %v\n%s", host, argv, err, out)
	}
	return string(out)
}

// TestKubernetesOSPFAcrossHosts runs two FRR routers configured from the
// lab file's routing key (their frr.conf a ConfigMap that netlab's init
// puts in place), one on each of the test cluster's hosts, with a host
// behind each: OSPF forms its adjacency over the VXLAN tunnel between the
// hosts, each router learns the other's LAN, and the hosts ping each other.
func TestKubernetesOSPFAcrossHosts(t *testing.T) {
	parallel(t)
	needKubeRuntime(t, "netlab/router")
	l := up(t, `defaults:
  image: netlab/tiny
nodes:
  r1:
    image: netlab/router
    host: netlab-h1
    forward: true
    interfaces:
      eth0: {address: 10.8.1.1/24}
      eth1: {address: 10.8.12.1/30}
    routing:
      router_id: 1.1.1.1
      ospf: {area: 0, interfaces: [eth0, eth1], passive: [eth0]}
  r2:
    image: netlab/router
    host: netlab-h2
    forward: true
    interfaces:
      eth0: {address: 10.8.2.1/24}
      eth1: {address: 10.8.12.2/30}
    routing:
      router_id: 2.2.2.2
      ospf: {area: 0, interfaces: [eth0, eth1], passive: [eth0]}
  ha:
    host: netlab-h1
    interfaces:
      eth0: {address: 10.8.1.10/24}
    gateway: 10.8.1.1
  hb:
    host: netlab-h2
    interfaces:
      eth0: {address: 10.8.2.10/24}
    gateway: 10.8.2.1
links:
  - [ha:eth0, r1:eth0]
  - [r1:eth1, r2:eth1]
  - [r2:eth0, hb:eth0]
checks:
  - {from: ha, ping: hb, within: 60s}
`)
	if out, code := l.exec("r1", "cat", "/etc/frr/frr.conf"); code != 0 || !strings.Contains(out, "router-id 1.1.1.1") {
		t.Errorf("r1's frr.conf (exit %d):\n%s", code, out)
	}
	l.waitOutput("r1", 60*time.Second, `2\.2\.2\.2 .*Full`, "vtysh", "-c", "show ip ospf neighbor")
	l.waitOutput("r1", 30*time.Second, `10\.8\.2\.0/24 .*proto ospf`, "ip", "route")
	l.mustPing("ha", "10.8.2.10")
	if r := netlab(t, "check", l.file); r.code != 0 {
		t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestKubernetesStopStartWatcher: on the kubernetes runtime a node stops
// (its pod's command ends, its cables pulled first, since the pod's
// sandbox keeps its namespace) and starts again (its pod made again from
// its own spec, wired by start's up); the lab's watcher, a watch on its
// pods, leaves a node stopped on purpose down, and starts and rewires one
// whose command ended by itself.
func TestKubernetesStopStartWatcher(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t)
	l := up(t, `defaults:
  image: netlab/tiny
nodes:
  a:
    host: netlab-h1
    interfaces:
      eth0: {address: 10.9.1.1/24}
  b:
    host: netlab-h2
    interfaces:
      eth0: {address: 10.9.1.2/24}
links:
  - [a:eth0, b:eth0]
checks:
  - {from: a, ping: b}
`)
	if r := netlab(t, "status", l.name); !strings.Contains(r.stdout, "watcher: running") {
		t.Fatalf("no watcher after up:\n%s", r.stdout)
	}
	l.mustPing("a", "10.9.1.2")
	if r := netlab(t, "stop", l.name, "b"); r.code != 0 {
		t.Fatalf("stop b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	time.Sleep(2 * time.Second) // a repair that would start b has had its chance
	if l.reaches("a", "10.9.1.2") {
		t.Error("b is stopped, but a pings it")
	}
	if r := netlab(t, "status", l.name); !regexp.MustCompile(`│ b +│ (succeeded|failed) `).MatchString(r.stdout) {
		t.Errorf("status does not show b ended:\n%s", r.stdout)
	}
	if r := netlab(t, "start", l.name, "b"); r.code != 0 {
		t.Fatalf("start b: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.mustPing("a", "10.9.1.2")
	// b's command ends by itself (its init passes SIGTERM on): the
	// watcher makes its pod again and rewires it.
	pods := kubeClient(t, cfg).CoreV1().Pods(kube.Namespace(l.name))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	old, err := pods.Get(ctx, "b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.exec("b", "kill", "1")
	start := time.Now()
	for {
		// Its pod's sandbox keeps b's namespace, which answers pings: wait
		// for a new pod that runs, then ping.
		p, err := pods.Get(ctx, "b", metav1.GetOptions{})
		if err == nil && p.UID != old.UID && p.Status.Phase == corev1.PodRunning {
			break
		}
		if time.Since(start) > 90*time.Second {
			log, _ := os.ReadFile("/run/netlab/" + l.name + "/watch.log")
			t.Fatalf("b's command ended: no new pod of b runs after 90 s; watcher log:\n%s", log)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !l.pingsWithin("a", "10.9.1.2", 60*time.Second) {
		log, _ := os.ReadFile("/run/netlab/" + l.name + "/watch.log")
		t.Fatalf("b's command ended: its new pod was not rewired within 60 s; watcher log:\n%s", log)
	}
	t.Logf("b's command ended: b made again and answering after %s", time.Since(start).Round(time.Millisecond))
	l.passChecks()
}

// TestKubernetesBridgePublishVolume brings up three pods on a lab network
// (a bridge on this machine, the pods on both of the test cluster's
// hosts), one serving a host folder mounted into it on a published port:
// the nodes ping each other, the port answers on the host with the file,
// and down leaves nothing.
func TestKubernetesBridgePublishVolume(t *testing.T) {
	parallel(t)
	needKubeRuntime(t)
	code := t.TempDir()
	if err := os.WriteFile(code+"/x.txt", []byte("served from a host folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := upWith(t, `defaults:
  image: netlab/tiny
networks:
  lan: {}
nodes:
  r:
    command: [sh, -c, "exec httpd -f -p 8080 -h /code"]
    volumes: ["`+code+`:/code:ro"]
    interfaces:
      eth0: {network: lan, address: 10.9.0.1/24}
    publish: ["127.0.0.1:18197:8080"]
  h1:
    interfaces:
      eth0: {network: lan, address: 10.9.0.2/24}
  h2:
    interfaces:
      eth0: {network: lan, address: 10.9.0.3/24}
checks:
  - {from: h1, ping: h2}
  - {from: h2, ping: r}
  - {from: h1, ping: r}
`, nil, "--allow-host")
	if r := netlab(t, "check", l.file); r.code != 0 {
		t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://127.0.0.1:18197/x.txt")
	if err != nil {
		t.Fatalf("the published port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "served from a host folder\n" {
		t.Errorf("the published port answered %q (%s)", body, resp.Status)
	}
	l.down()
	if _, err := c.Get("http://127.0.0.1:18197/x.txt"); err == nil {
		t.Error("the published port still answers after down")
	}
}
