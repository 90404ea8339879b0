package tests

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netlab/netlab/engine/kube"
)

// podAgents makes every pod carry its own agent, as on a cluster that
// runs no netlab agent and whose hosts are not this machine.
const podAgents = "NETLAB_KUBE_AGENT=pod"

// TestKubernetesPodAgents brings up a lab whose pods carry their own
// agents: every pod has the agent as a sidecar, netlab's init stays the
// node's PID 1, every link is a VXLAN tunnel (also between two pods of one
// host), a lab network is a bridge in each member joined by a span to the
// others, and nothing of the lab is on the hosts; routes, the lab's check,
// status, a node stopped (from inside it) and started again (its links
// and its place on the network follow its new address) work, and down
// leaves nothing.
func TestKubernetesPodAgents(t *testing.T) {
	parallel(t)
	cfg := needKubeRuntime(t)
	needAgent(t, cfg) // the agent's image on the hosts
	l := up(t, `defaults:
  image: netlab/tiny
networks:
  lan: {}
nodes:
  a:
    host: netlab-h1
    command: [sleep, "3600"]
    interfaces:
      eth0: {address: 10.6.1.1/24}
      eth1: {network: lan, address: 10.6.9.1/24}
    gateway: 10.6.1.2
  b:
    host: netlab-h1
    forward: true
    interfaces:
      eth0: {address: 10.6.1.2/24}
      eth1: {address: 10.6.2.1/24}
  c:
    host: netlab-h2
    interfaces:
      eth0: {address: 10.6.2.2/24}
      eth1: {network: lan, address: 10.6.9.3/24}
    gateway: 10.6.2.1
  d:
    host: netlab-h1
    interfaces:
      eth0: {network: lan, address: 10.6.9.4/24}
links:
  - [a:eth0, b:eth0]
  - [b:eth1, c:eth0]
checks:
  - {from: a, ping: c}
  - {from: d, ping: 10.6.9.3}
`, podAgents)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pods, err := kubeClient(t, cfg).CoreV1().Pods(kube.Namespace(l.name)).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("the lab's pods: %v", err)
	}
	for _, p := range pods.Items {
		own := false
		for _, s := range p.Status.InitContainerStatuses {
			own = own || s.Name == kube.PodAgentContainer && s.State.Running != nil
		}
		if !own {
			t.Errorf("pod %s: its own agent does not run: %+v", p.Name, p.Status.InitContainerStatuses)
		}
	}
	if out, _ := l.exec("a", "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "/.netlab/init\x00") {
		t.Errorf("a's PID 1 is %q, not netlab's init", out)
	}
	// Its command runs: the ready file its agent wrote was the one its
	// init waited for.
	if out, _ := l.exec("a", "ps", "-o", "args"); !strings.Contains(out, "sleep 3600") {
		t.Errorf("a's command does not run:\n%s", out)
	}
	// a and b share a host: their link is a tunnel all the same.
	for _, x := range []struct{ node, iface string }{{"a", "eth0"}, {"b", "eth0"}, {"b", "eth1"}, {"c", "eth0"}} {
		if out, code := l.exec(x.node, "cat", "/sys/class/net/"+x.iface+"/uevent", "/sys/class/net/"+x.iface+"/mtu"); code != 0 || !strings.Contains(out, "DEVTYPE=vxlan") || !strings.HasSuffix(strings.TrimSpace(out), "1450") {
			t.Errorf("%s:%s is not a tunnel of MTU 1450: exit %d\n%s", x.node, x.iface, code, out)
		}
	}
	pings := func(when string) {
		t.Helper()
		for _, x := range []struct{ from, to, ttl string }{
			{"a", "10.6.2.2", "ttl=63"}, // through b
			{"a", "10.6.9.3", "ttl=64"}, // lan, across the hosts
			{"a", "10.6.9.4", "ttl=64"}, // lan, on one host
			{"d", "10.6.9.3", "ttl=64"},
		} {
			if out, code := l.exec(x.from, "ping", "-c", "2", "-W", "2", x.to); code != 0 || !strings.Contains(out, x.ttl) {
				t.Errorf("%s: ping %s from %s: exit %d\n%s", when, x.to, x.from, code, out)
			}
		}
	}
	pings("after up")
	if r := netlab(t, "check", l.file); r.code != 0 {
		t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	hostsClean := func(when string) {
		t.Helper()
		for _, h := range []string{"h1", "h2"} {
			if out := onSimHost(t, h, "ip", "-o", "link"); strings.Contains(out, "netlab:"+l.name+":") {
				t.Errorf("%s: host %s has interfaces of the lab:\n%s", when, h, out)
			}
		}
	}
	hostsClean("after up")
	// status reads the interfaces by the pods' agents.
	r := netlab(t, "status", "--json", l.name)
	var st map[string][]struct {
		Node       string
		Interfaces []struct {
			Name  string
			Addrs []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); r.code != 0 || err != nil {
		t.Fatalf("netlab status --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	found := false
	for _, n := range st[l.name] {
		for _, i := range n.Interfaces {
			found = found || n.Node == "c" && i.Name == "eth1" && strings.Join(i.Addrs, ",") == "10.6.9.3/24"
		}
	}
	if !found {
		t.Errorf("status does not show c:eth1 10.6.9.3/24:\n%s", r.stdout)
	}
	// c stopped (its agent does not see its processes: netlab's init
	// there is told), then started: a new pod, a new address, which its
	// peers' tunnels and the network's other members then use.
	if r := netlab(t, "stop", l.name, "c"); r.code != 0 {
		t.Errorf("netlab stop c: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, code := l.exec("a", "ping", "-c", "1", "-W", "1", "10.6.9.3"); code == 0 {
		t.Errorf("ping c while it is stopped: it answered\n%s", out)
	}
	if r := netlab(t, "start", l.name, "c"); r.code != 0 {
		t.Errorf("netlab start c: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	pings("after c's start")
	l.down()
	kubeGone(t, cfg, l.name)
	hostsClean("after down")
}
