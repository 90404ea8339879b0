package frr

import (
	"testing"

	"github.com/netlab/netlab/internal/golden"
	"github.com/netlab/netlab/spec"
)

// A border router with a customer, a peer, a provider, a route server and
// an iBGP neighbor between loopbacks: its policy and sessions are pinned.
func TestRelationsAndLoopback(t *testing.T) {
	lab, err := spec.Parse([]byte(`name: p
defaults: {image: netlab/router, forward: true}
nodes:
  r:
    interfaces:
      eth0: {address: 10.0.1.1/24}
      eth1: {address: 10.0.2.1/24}
      eth2: {address: 10.0.3.1/24}
      eth3: {address: 10.0.4.1/24}
      eth4: {address: 10.0.5.1/24}
    routing:
      router_id: 1.151.0.1
      loopback: 1.151.0.1/24
      ospf: {area: 0, interfaces: [eth4]}
      bgp:
        as: 1
        networks: [1.0.0.0/8]
        neighbors:
          - {address: 10.0.1.2, as: 2, relation: customer}
          - {address: 10.0.2.2, as: 3, relation: peer}
          - {address: 10.0.3.2, as: 4, relation: provider}
          - {address: 10.0.4.2, as: 80, relation: route_server}
          - {address: 1.152.0.1, as: 1, update_source: lo, next_hop_self: true}
  rs:
    interfaces: {eth0: {address: 10.0.4.2/24}}
    routing:
      bgp:
        as: 80
        neighbors: [{address: 10.0.4.1, as: 1, relation: rs_client}]
  o:
    image: netlab/tiny
    interfaces:
      eth0: {address: 10.0.1.2/24}
      eth1: {address: 10.0.2.2/24}
      eth2: {address: 10.0.3.2/24}
      eth3: {address: 10.0.5.2/24}
links:
  - [r:eth0, o:eth0]
  - [r:eth1, o:eth1]
  - [r:eth2, o:eth2]
  - [r:eth3, rs:eth0]
  - [r:eth4, o:eth3]
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/policy.conf", "### r\n"+Conf(lab.Nodes["r"])+"### rs\n"+Conf(lab.Nodes["rs"]))
}
