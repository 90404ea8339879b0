package spec

import "gopkg.in/yaml.v3"

// NodeMap, NetworkMap and InterfaceMap are the lab's nodes and networks
// and a node's interfaces by name. They decode entry by entry: yaml.v3 looks for duplicate keys in a mapping by
// comparing every key with every other, which made a file of 200,000
// nodes take minutes. Duplicate keys are found earlier, in linear time, when
// the file is converted for the schema (see converter.convert).
type (
	NodeMap      map[string]*Node
	NetworkMap   map[string]*Network
	InterfaceMap map[string]*Interface
)

// UnmarshalYAML decodes the nodes one entry at a time.
func (m *NodeMap) UnmarshalYAML(n *yaml.Node) error { return decodeEntries(n, (*map[string]*Node)(m)) }

// UnmarshalYAML decodes the networks one entry at a time.
func (m *NetworkMap) UnmarshalYAML(n *yaml.Node) error {
	return decodeEntries(n, (*map[string]*Network)(m))
}

// UnmarshalYAML decodes the interfaces one entry at a time (a router at the
// centre of a star has one per spoke).
func (m *InterfaceMap) UnmarshalYAML(n *yaml.Node) error {
	return decodeEntries(n, (*map[string]*Interface)(m))
}

// decodeEntries decodes a mapping of name -> *T. A mapping with merge keys
// (<<) is left to yaml.v3, which knows their rules.
func decodeEntries[T any](n *yaml.Node, out *map[string]*T) error {
	if n.Kind != yaml.MappingNode {
		return n.Decode(out)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag == "!!merge" {
			return n.Decode(out)
		}
	}
	m := make(map[string]*T, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		var val *T
		if err := v.Decode(&val); err != nil {
			return err
		}
		m[k.Value] = val
	}
	*out = m
	return nil
}
