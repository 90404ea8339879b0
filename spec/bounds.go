package spec

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Bounds on values that the kernel, the relay or a check would refuse, or
// take for ever on, so that validate refuses them with their place in the
// file rather than up failing (or a relay's arithmetic overflowing) later.
const (
	MaxImpairDelay = time.Hour        // delay and jitter of an impaired link
	MaxRateBytes   = uint64(1e12 / 8) // 1 tbit, the fastest rate an impaired link takes
	MaxCheckWait   = time.Hour        // a check's within: and timeout:
	MaxCheckRetry  = int(MaxCheckWait / (500 * time.Millisecond))
	MinIPv6MTU     = 1280 // the kernel turns IPv6 off on an interface below it
)

// boundedDuration parses a bounded positive duration; what is wrong, or "".
func boundedDuration(s string, limit time.Duration, example string) (time.Duration, string) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || d < 0:
		return 0, fmt.Sprintf("%q is not a duration like %s", s, example)
	case d > limit:
		return 0, fmt.Sprintf("%s is longer than %s, the most netlab takes", s, strings.TrimSuffix(strings.TrimSuffix(limit.String(), "0s"), "0m"))
	}
	return d, ""
}

// lossPercent parses an impaired link's loss: a finite percentage from 0
// to 100, with or without %.
func lossPercent(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 100 {
		return 0, false
	}
	return v, true
}

// namespacedSysctl tells whether a sysctl belongs to a node's own
// namespaces: net.* (its network namespace) and the System V IPC and POSIX
// message queue ones Docker also lets a container set (its IPC namespace).
// Any other (kernel.*, vm.*, fs.*) is the host's: the kernel refuses to
// write it from a container, and writing it from outside would change the
// machine.
func namespacedSysctl(k string) bool {
	switch {
	case strings.HasPrefix(k, "net."), strings.HasPrefix(k, "fs.mqueue."):
		return true
	case k == "kernel.sem", strings.HasPrefix(k, "kernel.shm"), strings.HasPrefix(k, "kernel.msg"):
		return true
	}
	return false
}

// addrKindProblem says why an address cannot be any host's (unspecified,
// loopback, multicast), or "".
func addrKindProblem(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsMulticast():
		return "multicast"
	}
	return ""
}

// ipv6MTU refuses IPv6 on an interface whose MTU is below 1280: the kernel
// turns IPv6 off there and takes no IPv6 address.
func (c *checker) ipv6MTU() {
	for _, n := range c.lab.SortedNodes() {
		for _, i := range n.SortedInterfaces() {
			if i.MTU == 0 || i.MTU >= MinIPv6MTU || (!hasFamily(i.Addrs, 6) && !i.SLAAC) {
				continue
			}
			at := path("nodes", n.Name, "interfaces", i.Name, "mtu")
			if nw := c.lab.Networks[i.Network]; nw != nil && nw.MTU == i.MTU {
				if _, own := c.ps.pos.key[at]; !own {
					at = path("networks", i.Network, "mtu")
				}
			}
			c.ps.add(at, "%s:%s has IPv6 addresses, and IPv6 needs an MTU of at least %d, not %d: raise the MTU or give it IPv4 only", n.Name, i.Name, MinIPv6MTU, i.MTU)
		}
	}
}
