// Package hostcheck tells what the host offers labs and what a lab needs
// of it: the kernel's network features, found by trying each in a network
// namespace made for the purpose and removed afterwards; the features each
// node of a lab will use, read from the lab file and from the commands and
// startup scripts its nodes run (a converted Kathará lab's NODE.startup);
// and the Docker engine, runc and cgroup version that the runtimes need.
package hostcheck

// Feature is a kernel feature a lab may use, named as ip(8) and modprobe
// know it.
type Feature string

// The features netlab probes. Some are modules elsewhere and built in on
// other hosts; either way the probe asks the kernel itself.
const (
	Veth       Feature = "veth"
	Bridge     Feature = "bridge"
	BridgeVLAN Feature = "bridge-vlan-filtering"
	VLAN       Feature = "8021q"
	Macvlan    Feature = "macvlan"
	Ipvlan     Feature = "ipvlan"
	Vxlan      Feature = "vxlan"
	Dummy      Feature = "dummy"
	IPIP       Feature = "ipip"
	GRE        Feature = "gre"
	GRETap     Feature = "gretap"
	SIT        Feature = "sit"
	Bonding    Feature = "bonding"
	VRF        Feature = "vrf"
	Wireguard  Feature = "wireguard"
	IFB        Feature = "ifb"
	Tun        Feature = "tun"
	Netem      Feature = "netem"
	TBF        Feature = "tbf"
	HTB        Feature = "htb"
	NFTables   Feature = "nf_tables"
	MPLS       Feature = "mpls"
)

// Info says what a feature is for.
type Info struct {
	Feature Feature `json:"feature"`
	// Enables is what a lab can do with it.
	Enables string `json:"enables"`
	// Without is what netlab does, or what fails, on a kernel without it.
	Without string `json:"without"`
}

// Features lists every feature netlab probes, in the order doctor shows
// them.
var Features = []Info{
	{Veth, "links and network ports of every node", "no lab can be wired"},
	{Bridge, "networks (one bridge each), brctl and ip link add type bridge in nodes", "no network can be made; only point-to-point links"},
	{BridgeVLAN, "a network's VLANs on one bridge (vlan, trunk); VLAN-aware bridges in nodes", "netlab makes one bridge per VLAN instead; bridge vlan in nodes fails"},
	{VLAN, "802.1Q sub-interfaces (eth0.10) with tagged frames; vconfig, ip link add type vlan", "netlab makes sub-interfaces as plain interfaces on a bridge per VLAN: frames carry no tags; type vlan in nodes fails"},
	{Macvlan, "networks on a host interface (macvlan:)", "a macvlan network cannot be made"},
	{Ipvlan, "ip link add type ipvlan in nodes", "ipvlan interfaces in nodes fail"},
	{Vxlan, "VXLAN tunnels in nodes (EVPN and data-center labs)", "type vxlan in nodes fails"},
	{Dummy, "dummy interfaces (loopback-like addresses, router ids)", "type dummy in nodes fails"},
	{IPIP, "IP-in-IP tunnels (ip tunnel add mode ipip, tunl0)", "ipip tunnels in nodes fail"},
	{GRE, "GRE tunnels (ip tunnel add mode gre)", "gre tunnels in nodes fail"},
	{GRETap, "Ethernet over GRE (type gretap)", "gretap tunnels in nodes fail"},
	{SIT, "IPv6-in-IPv4 tunnels (mode sit, 6in4)", "sit tunnels in nodes fail"},
	{Bonding, "bonded interfaces (type bond, ifenslave)", "bond interfaces in nodes fail"},
	{VRF, "VRFs (type vrf, FRR vrf)", "VRFs in nodes fail"},
	{Wireguard, "WireGuard tunnels (wg, wg-quick)", "WireGuard in nodes fails"},
	{IFB, "ingress shaping through ifb devices", "type ifb in nodes fails"},
	{Tun, "tun and tap devices (OpenVPN, user-space tunnels)", "tun/tap in nodes fails"},
	{Netem, "tc qdisc netem in nodes (delay, loss by hand)", "netlab's link impairments use its own relay; tc netem in nodes fails"},
	{TBF, "tc qdisc tbf in nodes (rate limits)", "tc tbf in nodes fails"},
	{HTB, "tc qdisc htb in nodes (traffic classes)", "tc htb in nodes fails"},
	{NFTables, "nat:, firewall:, isolated networks; nft and iptables-nft in nodes", "netlab cannot make NAT or filters; nft and iptables in nodes fail"},
	{MPLS, "MPLS forwarding (net.mpls sysctls, FRR ldpd)", "MPLS labels are not forwarded"},
}

// InfoOf returns what Features says of f.
func InfoOf(f Feature) Info {
	for _, i := range Features {
		if i.Feature == f {
			return i
		}
	}
	return Info{Feature: f}
}
