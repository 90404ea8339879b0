package kathara

import (
	"strings"
	"testing"
)

// What a router's commands print (iproute2 6.1, net-tools netstat).
const (
	ipAddr = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
{"ifindex":2,"ifname":"tunl0","flags":["NOARP"],"mtu":1480,"operstate":"DOWN","link_type":"ipip","address":"0.0.0.0","addr_info":[]},
{"ifindex":41,"link_index":42,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","address":"6a:3e:01:9c:22:10","link_netnsid":0,"addr_info":[{"family":"inet","local":"10.0.1.1","prefixlen":24,"broadcast":"10.0.1.255","scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::683e:1ff:fe9c:2210","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
{"ifindex":43,"link_index":44,"ifname":"eth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","address":"b2:11:5e:07:aa:01","link_netnsid":0,"addr_info":[{"family":"inet","local":"10.0.2.1","prefixlen":30,"broadcast":"10.0.2.3","scope":"global","label":"eth1","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]`
	ipRoute = `[{"dst":"10.0.1.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.0.1.1","flags":[]},{"dst":"10.0.2.0/30","dev":"eth1","protocol":"kernel","scope":"link","prefsrc":"10.0.2.1","flags":[]},{"dst":"10.0.3.0/24","gateway":"10.0.2.2","dev":"eth1","protocol":"ospf","metric":20,"flags":[]}]`
	netstat = `Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State      
tcp        0      0 0.0.0.0:2601            0.0.0.0:*               LISTEN     
tcp        3      0 127.0.0.11:40123        0.0.0.0:*               LISTEN     
udp        0      0 0.0.0.0:520             0.0.0.0:*                          
raw        0      0 0.0.0.0:89              0.0.0.0:*               7          
`
	// The same device as a builtin signature, lists in another order,
	// without the tunnel device and the link-local address (made on a host
	// without the ipip module, with other MAC addresses), and its processes.
	signature = `{
    "interfaces": {
        "eth1": {"ip_addresses": ["10.0.2.1/30"], "state": "UP"},
        "eth0": {"ip_addresses": ["10.0.1.1/24"], "state": "UP"},
        "lo": {"ip_addresses": ["127.0.0.1/8"], "state": "UNKNOWN"}
    },
    "route": [
        {"dst": "10.0.3.0/24", "gateway": "10.0.2.2", "dev": "eth1", "protocol": "ospf", "metric": 20, "flags": []},
        {"dst": "10.0.2.0/30", "dev": "eth1", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.2.1", "flags": []},
        {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.1", "flags": []}
    ],
    "listening_ports": [
        "raw        0      0 0.0.0.0:89              0.0.0.0:*               7          ",
        "tcp        0      0 0.0.0.0:2601            0.0.0.0:*               LISTEN     ",
        "udp        0      0 0.0.0.0:520             0.0.0.0:*                          "
    ],
    "processes": ["/usr/lib/frr/zebra -d", "/usr/sbin/ospfd -d", "bash /hostlab/r1.startup"]
}`
)

func collect(t *testing.T, addr, route, ns string) State {
	t.Helper()
	s, err := Collect([]byte(addr), []byte(route), []byte(ns))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompareMatches(t *testing.T) {
	want, err := ParseSignature([]byte(signature))
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, ipAddr, ipRoute, netstat)
	if d := Compare(want, got); len(d) > 0 {
		t.Errorf("the device matches its signature, but Compare says:\n%s", strings.Join(d, "\n"))
	}
	if len(got.Ports) != 3 || len(got.Routes) != 3 || len(got.Interfaces) != 3 {
		t.Errorf("collected %d interfaces, %d routes, %d ports; want 3 of each: %+v", len(got.Interfaces), len(got.Routes), len(got.Ports), got)
	}
}

func TestCompareDifferences(t *testing.T) {
	want, err := ParseSignature([]byte(signature))
	if err != nil {
		t.Fatal(err)
	}
	// eth1 lost its address and went down, the OSPF route is gone, a
	// static one came, ospfd's port is closed, and eth2 is new.
	addr := strings.Replace(ipAddr, `"local":"10.0.2.1","prefixlen":30`, `"local":"10.0.2.5","prefixlen":30`, 1)
	addr = strings.Replace(addr, `"operstate":"UP","address":"b2`, `"operstate":"DOWN","address":"b2`, 1)
	addr = strings.TrimSuffix(addr, "]") + `,{"ifindex":45,"ifname":"eth2","operstate":"UP","addr_info":[]}]`
	route := strings.Replace(ipRoute, `"protocol":"ospf","metric":20`, `"protocol":"static"`, 1)
	ns := strings.Replace(netstat, "raw ", "#", 1)
	got := Compare(want, collect(t, addr, route, ns))
	wantDiff := []string{
		"eth1: address 10.0.2.1/30 missing",
		"eth1: extra address 10.0.2.5/30",
		"eth1: state DOWN (signature: UP)",
		"extra interface eth2",
		"route missing: 10.0.3.0/24 via 10.0.2.2 dev eth1 proto ospf metric 20",
		"extra route: 10.0.3.0/24 via 10.0.2.2 dev eth1 proto static",
		"listening port missing: raw 0.0.0.0:89 0.0.0.0:* 7",
	}
	if strings.Join(got, "\n") != strings.Join(wantDiff, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDiff, "\n"))
	}
	// The other way round, what was missing is extra.
	back := Compare(collect(t, addr, route, ns), want)
	if !strings.Contains(strings.Join(back, "\n"), "interface eth2 missing") || !strings.Contains(strings.Join(back, "\n"), "extra listening port: raw 0.0.0.0:89 0.0.0.0:* 7") {
		t.Errorf("reversed differences:\n%s", strings.Join(back, "\n"))
	}
}

// Every field of a route counts, as in Kathará's comparison, even one
// routeText does not know.
func TestCompareRouteFields(t *testing.T) {
	a := collect(t, "[]", `[{"dst":"default","gateway":"10.0.1.254","dev":"eth0","flags":[]}]`, "")
	b := collect(t, "[]", `[{"dst":"default","gateway":"10.0.1.254","dev":"eth0","flags":["onlink"]}]`, "")
	d := Compare(a, b)
	if len(d) != 2 || d[1] != `extra route: default via 10.0.1.254 dev eth0 flags ["onlink"]` {
		t.Errorf("differences: %q", d)
	}
	if d := Compare(a, a); len(d) != 0 {
		t.Errorf("a route differs from itself: %q", d)
	}
}

func TestParseSignatureErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"interfaces": {}}`:    "it has no route, listening_ports",
		`[INTERFACES]`:          "not a Kathará builtin signature (JSON",
		`{"interfaces": 3}`:     "not a Kathará builtin signature (JSON",
		`{"route": [], "x": 1}`: "it has no interfaces, listening_ports",
	} {
		_, err := ParseSignature([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSignature(%s): %v, want %q", in, err, want)
		}
	}
	if _, err := Collect([]byte("ip: command not found"), nil, nil); err == nil || !strings.Contains(err.Error(), "ip -j addr show printed no JSON list") {
		t.Errorf("Collect of no JSON: %v", err)
	}
}

// The nexthop object a route uses is numbered anew in each run.
func TestCompareIgnoresNexthopID(t *testing.T) {
	a := collect(t, "[]", `[{"dst":"10.2.0.0/24","nhid":12,"gateway":"10.0.0.2","dev":"eth1","protocol":"ospf","metric":20,"flags":[]}]`, "")
	b := collect(t, "[]", `[{"dst":"10.2.0.0/24","nhid":31,"gateway":"10.0.0.2","dev":"eth1","protocol":"ospf","metric":20,"flags":[]}]`, "")
	if d := Compare(a, b); len(d) != 0 {
		t.Errorf("routes differing only in nhid differ: %q", d)
	}
}
