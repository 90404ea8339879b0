package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/checks/kathara"
	"github.com/netlab/netlab/spec"
)

// cannedNodes answers Exec with fixed outputs, by command.
type cannedNodes struct {
	out  map[string]string
	code map[string]int
}

func (n *cannedNodes) NetNS(context.Context, string) (netns.NsHandle, error) {
	return netns.None(), nil
}

func (n *cannedNodes) ReadFile(context.Context, string, string) ([]byte, error) { return nil, nil }

func (n *cannedNodes) Exec(_ context.Context, _, cmd string) ([]byte, int, error) {
	return []byte(n.out[cmd]), n.code[cmd], nil
}

func TestSignatureProbe(t *testing.T) {
	node := &cannedNodes{out: map[string]string{
		"ip -j addr show":  `[{"ifname":"lo","operstate":"UNKNOWN","addr_info":[{"local":"127.0.0.1","prefixlen":8}]},{"ifname":"eth0","operstate":"UP","addr_info":[{"local":"10.0.1.1","prefixlen":24}]}]`,
		"ip -j route show": `[{"dst":"10.0.1.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.0.1.1","flags":[]}]`,
		"netstat -tuwln":   "Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address Foreign Address State\n",
	}, code: map[string]int{}}
	sig := func(s string) kathara.State {
		st, err := kathara.ParseSignature([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	p := &NetProber{Nodes: node}
	c := &spec.Check{Probe: "signature", Node: "r1", Limit: time.Second, Want: sig(`{"interfaces": {
		"lo": {"ip_addresses": ["127.0.0.1/8"], "state": "UNKNOWN"}, "eth0": {"ip_addresses": ["10.0.1.1/24"], "state": "UP"}},
		"route": [{"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.1", "flags": []}],
		"listening_ports": [], "processes": ["/sbin/init"]}`)}
	if o := p.Probe(context.Background(), c); !o.OK || o.Detail != "2 interfaces, 1 routes, 0 listening ports as signed (processes not compared)" {
		t.Errorf("matching node: %+v", o)
	}

	// Seven differences: four are shown.
	c.Want = sig(`{"interfaces": {"eth1": {"ip_addresses": [], "state": "UP"}}, "route": [
		{"dst": "10.0.2.0/24", "dev": "eth1"}, {"dst": "10.0.3.0/24", "dev": "eth1"}],
		"listening_ports": ["tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN"]}`)
	o := p.Probe(context.Background(), c)
	if o.OK || o.Err != nil || !strings.HasPrefix(o.Detail, "extra interface eth0; interface eth1 missing; extra interface lo; route missing: 10.0.2.0/24 dev eth1; and 3 more") {
		t.Errorf("differing node: %+v", o)
	}

	// A node without netstat cannot be compared.
	node.code["netstat -tuwln"] = 127
	if o := p.Probe(context.Background(), c); o.Err == nil || !strings.Contains(o.Err.Error(), "node r1 has no netstat") {
		t.Errorf("node without netstat: %+v", o)
	}
}
