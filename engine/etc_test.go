package engine

import (
	"strings"
	"testing"
)

func TestResolvConf(t *testing.T) {
	got := ResolvConf([]string{"10.1.1.1"}, []string{"example.com"})
	if !strings.Contains(got, "nameserver 10.1.1.1\n") || !strings.Contains(got, "search example.com\n") {
		t.Errorf("resolv.conf with dns and dns_search:\n%s", got)
	}
	got = ResolvConf(nil, nil)
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "nameserver 127.") {
			t.Errorf("the host's loopback server reaches the node:\n%s", got)
		}
	}
	if !strings.Contains(got, "nameserver ") {
		t.Errorf("no name server at all:\n%s", got)
	}
}

// IPv6 is off in a node unless its own sysctls switch it on; on a kernel
// without IPv6 nothing is asked of it.
func TestNodeSysctls(t *testing.T) {
	got := NodeSysctls(map[string]string{"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.disable_ipv6": "0"})
	if got["net.ipv4.ip_forward"] != "1" {
		t.Errorf("the node's own sysctl is lost: %v", got)
	}
	if !hostHasIPv6() {
		if _, ok := NodeSysctls(nil)["net.ipv6.conf.all.disable_ipv6"]; ok {
			t.Error("an IPv6 sysctl on a kernel without IPv6")
		}
		return
	}
	if got["net.ipv6.conf.all.disable_ipv6"] != "0" || got["net.ipv6.conf.default.disable_ipv6"] != "1" {
		t.Errorf("IPv6 sysctls: %v, want the node's all=0 over the default's default=1", got)
	}
}
