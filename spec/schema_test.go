package spec

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/netlab/netlab/schema"
)

// The schema and the Go types must name the same keys, so that what the
// schema accepts decodes, and what the types read is documented.
func TestSchemaMatchesTypes(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(schema.JSON, &root); err != nil {
		t.Fatal(err)
	}
	defs := root["$defs"].(map[string]any)
	props := func(m any) []string {
		p, _ := m.(map[string]any)["properties"].(map[string]any)
		var keys []string
		for k := range p {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	cases := []struct {
		name   string
		schema any
		typ    any
	}{
		{"lab", root, Lab{}},
		{"defaults", root["properties"].(map[string]any)["defaults"], Defaults{}},
		{"network", defs["network"], Network{}},
		{"node", defs["node"], Node{}},
		{"interface", defs["interface"], Interface{}},
		{"route", defs["route"], Route{}},
		{"nat", defs["nat"], NAT{}},
		{"dnat", defs["dnat"], DNAT{}},
		{"link", defs["link"], linkLong{}},
		{"routing", defs["routing"], Routing{}},
		{"ospf", defs["ospf"], OSPF{}},
		{"ospfInterface", defs["ospfInterface"], OSPFInterface{}},
		{"rip", defs["rip"], RIP{}},
		{"bgp", defs["bgp"], BGP{}},
		{"bgpNeighbor", defs["bgpNeighbor"], BGPNeighbor{}},
		{"config", defs["config"], Config{}},
		{"check", defs["check"], Check{}},
	}
	for _, c := range cases {
		want := yamlKeys(reflect.TypeOf(c.typ))
		got := props(c.schema)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: schema has %v, Go type has %v", c.name, got, want)
		}
	}
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	return keys
}

// Every schema error we might raise reads as a sentence, not a library dump.
func TestSchemaMessagesArePlain(t *testing.T) {
	for _, src := range []string{
		"name: x\nnodes: {}\n",
		"name: x\nnodes: {a: {image: i, publish: [{}]}}\n",
		"name: x\nnodes: {a: {image: i, routes: [{via: 1.2.3.4}]}}\n",
		"name: x\nnodes: {a: {image: i, nat: {dnat: [{in: e, port: 0, to: x, proto: sctp}]}}}\n",
		"name: x\nnodes: {a: {image: i}}\nlinks: [[a:e]]\n",
	} {
		_, err := Parse([]byte(src), "t.yaml")
		if err == nil {
			t.Errorf("%q: no error", src)
			continue
		}
		for _, p := range Problems(err) {
			if strings.Contains(p.Msg, "'") || p.Line == 0 {
				t.Errorf("%q: unplaced or raw message: %v", src, p)
			}
		}
	}
}
