// Package labgen writes big lab files for benchmarks: chains and stars of
// routers and hosts with what real labs use (defaults, networks whose
// members get allocated addresses, point-to-point links, some impaired,
// routes, gateways, isolated segments, a firewall, checks).
package labgen

import (
	"fmt"
	"strings"
)

// Chain is a lab of n routers r0 ... r(n-1) in a line: each links to the
// next over a /30, routes its default towards the end of the chain and the
// rest of 10.64.0.0/10 back towards its start, and sits with nine others on
// a LAN (IPv4 and IPv6 subnets, addresses allocated); every fourth LAN is
// isolated. Every tenth link is impaired.
func Chain(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: chain%d\n", n)
	b.WriteString("defaults:\n  image: netlab/tiny\n  forward: true\n  dns: [10.255.0.1]\n  dns_search: [lab.test]\n  sysctls: {net.ipv4.conf.all.rp_filter: \"0\"}\n")
	b.WriteString("networks:\n")
	for k := 0; k < (n+9)/10; k++ {
		fmt.Fprintf(&b, "  lan%d: {subnet: %s, subnet6: \"fd00:%x::/64\"", k, lan(k), k)
		if k%4 == 3 {
			b.WriteString(", isolated: true")
		}
		b.WriteString("}\n")
	}
	b.WriteString("nodes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  r%d:\n    interfaces:\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "      eth0: {address: %s}\n", p2p(i-1, 2))
		}
		if i < n-1 {
			fmt.Fprintf(&b, "      eth1: {address: %s}\n", p2p(i, 1))
		}
		fmt.Fprintf(&b, "      eth2: {network: lan%d}\n", i/10)
		if n > 1 {
			b.WriteString("    routes:\n")
		}
		if i < n-1 {
			fmt.Fprintf(&b, "      - {to: default, via: %s}\n", addr(p2p(i, 2)))
		}
		if i > 0 {
			fmt.Fprintf(&b, "      - {to: 10.64.0.0/10, via: %s}\n", addr(p2p(i-1, 1)))
		}
	}
	if n > 1 {
		b.WriteString("links:\n")
	}
	for i := 0; i+1 < n; i++ {
		if i%10 == 9 {
			fmt.Fprintf(&b, "  - {endpoints: [r%d:eth1, r%d:eth0], delay: 5ms, loss: 0.1%%}\n", i, i+1)
		} else {
			fmt.Fprintf(&b, "  - [r%d:eth1, r%d:eth0]\n", i, i+1)
		}
	}
	b.WriteString("checks:\n")
	for i := 0; i < n; i += 100 {
		fmt.Fprintf(&b, "  - {from: r0, ping: r%d}\n", i)
	}
	return []byte(b.String())
}

// Star is a lab of a router, hub, linked over a /30 to each of n-1 hosts
// s1 ... s(n-1), with a route to each host's LAN. Hosts take the hub as
// their gateway and sit on LANs of 100 (IPv4 subnet, addresses allocated);
// every other LAN is isolated, with one flow allowed. The hub filters what
// it forwards; every seventh link is impaired.
func Star(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: star%d\n", n)
	b.WriteString("defaults:\n  image: netlab/tiny\n  dns: [10.255.0.1]\n  env: {ROLE: lab}\n")
	lans := (n - 1 + 99) / 100
	if lans > 0 {
		b.WriteString("networks:\n")
	}
	for k := 0; k < lans; k++ {
		fmt.Fprintf(&b, "  lan%d: {subnet: %s", k, lan(k))
		if k%2 == 1 {
			fmt.Fprintf(&b, ", isolated: true, allow: [{from: s%d, to: s%d, proto: tcp, port: 80}]", 100*k+1, 100*k+2)
		}
		b.WriteString("}\n")
	}
	b.WriteString("nodes:\n  hub:\n    forward: true\n    publish: [\"2200:22\"]\n")
	if n > 1 {
		b.WriteString("    interfaces:\n")
	}
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "      p%d: {address: %s}\n", i, p2p(i, 1))
	}
	if lans > 0 {
		b.WriteString("    routes:\n")
	}
	for k := 0; k < lans; k++ {
		fmt.Fprintf(&b, "      - {to: %s, via: %s}\n", lan(k), addr(p2p(100*k+1, 2)))
	}
	b.WriteString("    firewall:\n      forward: drop\n      rules:\n")
	b.WriteString("        - {chain: forward, action: accept, proto: icmp}\n")
	for i := 1; i < n && i <= 10; i++ {
		fmt.Fprintf(&b, "        - {chain: forward, action: accept, from: s%d, proto: tcp, port: 22}\n", i)
	}
	for i := 1; i < n; i++ {
		k := (i - 1) / 100
		fmt.Fprintf(&b, "  s%d:\n    interfaces:\n      eth0: {address: %s}\n      eth1: {network: lan%d}\n    gateway: %s\n",
			i, p2p(i, 2), k, addr(p2p(i, 1)))
		if (i-1)%100 == 0 { // the first host of a LAN routes it for the others
			b.WriteString("    forward: true\n")
		}
	}
	if n > 1 {
		b.WriteString("links:\n")
	}
	for i := 1; i < n; i++ {
		if i%7 == 0 {
			fmt.Fprintf(&b, "  - {endpoints: [hub:p%d, s%d:eth0], delay: 10ms, jitter: 1ms, rate: 100mbit}\n", i, i)
		} else {
			fmt.Fprintf(&b, "  - [hub:p%d, s%d:eth0]\n", i, i)
		}
	}
	b.WriteString("checks:\n")
	for i := 1; i < n; i += 100 {
		fmt.Fprintf(&b, "  - {from: s%d, ping: hub}\n", i)
	}
	if n == 1 {
		b.WriteString("  - {on: hub, run: \"true\"}\n")
	}
	return []byte(b.String())
}

// lan is the IPv4 subnet of LAN k: 10.0.0.0/24, 10.0.1.0/24, ...
func lan(k int) string { return fmt.Sprintf("10.%d.%d.0/24", k>>8&63, k&255) }

// p2p is address end (1 or 2) of point-to-point link i, a /30 of
// 10.128.0.0/9.
func p2p(i, end int) string {
	a := 4*i + end
	return fmt.Sprintf("10.%d.%d.%d/30", 128+(a>>16&127), a>>8&255, a&255)
}

// addr is an address without its prefix length.
func addr(p string) string { return p[:strings.IndexByte(p, '/')] }
