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
