// Package naming derives every name and label netlab gives to what it
// creates: containers, host interfaces, bridges, firewall tables. Everything
// a lab owns is found again from the lab's name alone, so that "netlab down
// NAME" needs no lab file.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// labelRe is a host name label: what lab and node names must be (the lab
// file's grammar), so that a name from a command line or a request can
// become a path or a container name.
var labelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// CheckName says what is wrong with name as the name of a lab or a node
// (what, in the message), or nil. Names that come from a command line or
// a request are checked before they become a path, a label or a container
// name.
func CheckName(what, name string) error {
	if !labelRe.MatchString(name) {
		return fmt.Errorf("%q is not a %s name: a name is 1 to 63 letters, digits and '-', not starting or ending with '-'", name, what)
	}
	return nil
}

// Container labels.
const (
	LabelLab  = "netlab.lab"  // the lab's name
	LabelNode = "netlab.node" // the node's name
	LabelFile = "netlab.file" // the lab file the lab was brought up from
	// LabelConfig holds, as JSON, what the container was made from (a
	// planner.Config), so that up sees when a node must be made again.
	LabelConfig = "netlab.config"
	// LabelInit is the netlab binary the node runs as its init (a copy
	// named by its content, see engine.InstallInit).
	LabelInit = "netlab.init"
)

// LabelImageCaps on an image lists the capabilities its programs need
// beyond the node defaults, comma-separated: netlab/router's FRR daemons
// refuse to start without SYS_ADMIN. A node's cap_drop still wins. An
// image in the engine's store has them; an OCI layout in a lab's folder
// has them only with a person's consent (package trust).
const LabelImageCaps = "netlab.cap_add"

// Prefixes of host interface names. Host names are short hashes, because
// lab and node names together do not fit in 15 bytes; the alias names the
// lab and object in full.
const (
	BridgePrefix = "nlb" // a network's bridge
	PortPrefix   = "nlp" // the host end of a node's veth on a bridge
	RelayPrefix  = "nlr" // the host end of a node's veth on an impaired link
	DHCPPrefix   = "nld" // the host end of netlab's DHCP server's veth on a bridge
	SpanPrefix   = "nlx" // a network's VXLAN device joining its bridges on a cluster's hosts
)

// AliasPrefix starts the alias (IFLA_IFALIAS) of every host interface.
const AliasPrefix = "netlab:"

// Container is the container name of a node: "lab-node".
// The "_" cannot occur in lab or node names (host name labels), so that
// no two labs can produce the same name: lab a-b node c is a-b_c, lab a
// node b-c is a_b-c.
func Container(lab, node string) string { return lab + "_" + node }

// Bridge is the host name of a network's bridge, e.g. "nlb3fa9c0d21b".
func Bridge(lab, network string) string { return BridgePrefix + hash10(lab, "network", network) }

// Port is the host name of the bridge-side end of node:iface's veth.
func Port(lab, node, iface string) string { return PortPrefix + hash10(lab, "port", node, iface) }

// Relay is the host name of node:iface's veth end on an impaired link.
func Relay(lab, node, iface string) string { return RelayPrefix + hash10(lab, "relay", node, iface) }

// DHCP is the host name of the bridge-side end of the veth of netlab's
// DHCP server on a network.
func DHCP(lab, network string) string { return DHCPPrefix + hash10(lab, "dhcp", network) }

// Span is the host name of the VXLAN device that joins a network's bridge
// on one host of a cluster to its bridges on the others.
func Span(lab, network string) string { return SpanPrefix + hash10(lab, "span", network) }

// SpanAlias names the lab and network behind a span.
func SpanAlias(lab, network string) string { return AliasPrefix + lab + ":span:" + network }

// SpanVNI is the VXLAN network identifier of a network's span: 23 bits of
// SHA-256 over the lab's and network's names, above 2^23, where the
// small ones CNI plugins take (Calico's 4096, Flannel's 1) are not. The
// spans of every lab on a host share its UDP port, so they differ by it.
func SpanVNI(lab, network string) int {
	h := sha256.Sum256([]byte("span\x00" + lab + "\x00" + network))
	return int(uint32(h[0])<<16|uint32(h[1])<<8|uint32(h[2]))&0x7fffff | 0x800000
}

// PodSpanVNI is the VNI of a network's span between pods that carry their
// own agents: SpanVNI's hash in 22 bits, above 2^22 and below 2^23, so
// that the span guards of hosts that run an agent (which drop the pods'
// packets with a host span's VNI) pass it, as they pass a link's tunnel.
func PodSpanVNI(lab, network string) int {
	return SpanVNI(lab, network)&0x3fffff | 0x400000
}

// DHCPAlias names the lab and network behind a DHCP server's host end.
func DHCPAlias(lab, network string) string {
	return AliasPrefix + lab + ":dhcp:" + network
}

// RelayAlias names the lab and node interface behind a relay's host end.
func RelayAlias(lab, node, iface string) string {
	return AliasPrefix + lab + ":relay:" + node + ":" + iface
}

// BridgeAlias names the lab and network behind a bridge.
func BridgeAlias(lab, network string) string {
	return AliasPrefix + lab + ":network:" + network
}

// PortAlias names the lab and node interface behind a bridge port.
func PortAlias(lab, node, iface string) string {
	return AliasPrefix + lab + ":port:" + node + ":" + iface
}

// OwnedBy tells whether a host interface alias belongs to the lab.
func OwnedBy(alias, lab string) bool { return strings.HasPrefix(alias, AliasPrefix+lab+":") }

// LabOf returns the lab named in a netlab alias, or "".
func LabOf(alias string) string {
	rest, ok := strings.CutPrefix(alias, AliasPrefix)
	if !ok {
		return ""
	}
	lab, _, _ := strings.Cut(rest, ":")
	return lab
}

// PodIface is the name the pod network's interface takes in a node on
// Kubernetes (the CNI names it eth0, a lab's name).
const PodIface = "pod0"

// PodGuardTable is the inet table in a pod's namespace that keeps the pod
// network from its node (wire.EnsurePodGuard).
const PodGuardTable = "netlab-pod"

// RuntimeIfaceAlias marks an interface in a node that its runtime made and
// owns (the pod network's, on Kubernetes): up and stop leave it alone.
const RuntimeIfaceAlias = AliasPrefix + "runtime-interface"

// TunnelAlias marks a node's end of a link that crosses hosts (a VXLAN
// device netlab made in the node's namespace) with the lab and the other
// end, so that up tells its own tunnels from a node's.
func TunnelAlias(lab, peerNode, peerIface string) string {
	return AliasPrefix + lab + ":tunnel:" + peerNode + ":" + peerIface
}

// HostLinkAlias is the alias of the machine's end of a host link, so that
// down finds it by the lab's name like every other host interface.
func HostLinkAlias(lab, ifname string) string { return AliasPrefix + lab + ":host:" + ifname }

// PublishPidName is the file name of the pid file of the forwarder of a
// node's published port, in the lab's run directory:
// publish-NODE@ADDR-PORT[-udp].pid ('@' is in neither). A TCP port keeps
// the name it had before netlab published UDP.
func PublishPidName(node, hostIP string, hostPort int, proto string) string {
	name := fmt.Sprintf("publish-%s@%s-%d", node, hostIP, hostPort)
	if proto != "tcp" {
		name += "-" + proto
	}
	return name + ".pid"
}

// WatcherPid is the pid file of a lab's watcher in its run directory.
const WatcherPid = "watch.pid"

// NATTable is the nftables table netlab owns inside a node's namespace.
const NATTable = "netlab"

// FirewallTable is the nftables table (inet) of a node's firewall, inside
// its namespace: apart from the NAT table, so that each is replaced alone.
const FirewallTable = "netlab-filter"

// IsolationTable is the host's nftables table (bridge family) that
// isolates the members of a lab's isolated segments. One per lab.
func IsolationTable(lab string) string { return "netlab-" + lab }

// FirewallComment marks host firewall rules netlab adds for a lab's bridge
// (an external bridge's own rule), or with network "" for the lab's bridges.
func FirewallComment(lab, network string) string { return "netlab:" + lab + ":" + network }

// BridgeGroup is the interface group (IFLA_GROUP) of a lab's own bridges,
// so that one host firewall rule matches them all: 31 bits of SHA-256
// over the lab's name, never 0 (the default group of every interface).
func BridgeGroup(lab string) uint32 {
	h := sha256.Sum256([]byte("group\x00" + lab))
	return (uint32(h[0])<<24|uint32(h[1])<<16|uint32(h[2])<<8|uint32(h[3]))&0x7fffffff | 1
}

// hash10 is 10 hex digits of SHA-256 over the parts: 40 bits, so that a
// collision needs about a million objects.
func hash10(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:5])
}
