package internet

import (
	"bytes"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The lab file is built as a YAML tree and marshalled, so that no name of
// a source (a router, a switch) can become YAML of its own.

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
func flowMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }
func list() *yaml.Node    { return &yaml.Node{Kind: yaml.SequenceNode} }
func flowList() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
}

// str is a string scalar; every $ is doubled (a lab file substitutes $VAR).
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.ReplaceAll(s, "$", "$$")}
}

func num(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}
func yes() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"} }

// put appends k: v to mapping m and returns v.
func put(m *yaml.Node, k string, v *yaml.Node) *yaml.Node {
	m.Content = append(m.Content, str(k), v)
	return v
}

// add appends v to sequence s and returns v.
func add(s, v *yaml.Node) *yaml.Node {
	s.Content = append(s.Content, v)
	return v
}

// strList is a one-line list of strings.
func strList(items ...string) *yaml.Node {
	l := flowList()
	for _, s := range items {
		add(l, str(s))
	}
	return l
}

// commentText makes s one comment line: no control characters.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// marshal writes the tree, two spaces an indent.
func marshal(root *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
