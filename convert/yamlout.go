package convert

import (
	"bytes"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// The converters build their lab file as a YAML tree and marshal it, so
// that no value of the source lab (an image name, an environment variable,
// a path) can become YAML of its own: the encoder quotes and escapes every
// scalar. Values are netlab lab file values, where $ starts a variable, so
// every $ of the source is doubled; mapping keys are not substituted and
// are kept as they are.

// doc is a lab file under construction: a mapping, in the order written.
type doc struct{ root *yaml.Node }

func newDoc() *doc { return &doc{root: &yaml.Node{Kind: yaml.MappingNode}} }

// block is an empty block mapping; flow an empty one-line mapping.
func block() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
func flow() *yaml.Node  { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }

// seq is an empty sequence; flowSeq writes on one line.
func seq() *yaml.Node     { return &yaml.Node{Kind: yaml.SequenceNode} }
func flowSeq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle} }

// key is a mapping key, written plain where YAML allows it.
func key(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// plain is a string value written without quotes where YAML allows it.
func plain(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.ReplaceAll(s, "$", "$$")}
}

// quoted is a string value in double quotes.
func quoted(s string) *yaml.Node {
	n := plain(s)
	n.Style = yaml.DoubleQuotedStyle
	return n
}

// quotedKey is a mapping key in double quotes.
func quotedKey(s string) *yaml.Node {
	n := key(s)
	n.Style = yaml.DoubleQuotedStyle
	return n
}

// set appends k: v to mapping m and returns v.
func set(m, k, v *yaml.Node) *yaml.Node {
	m.Content = append(m.Content, k, v)
	return v
}

// push appends v to sequence s and returns v.
func push(s, v *yaml.Node) *yaml.Node {
	s.Content = append(s.Content, v)
	return v
}

// flowMapOf is a one-line mapping of m, keys sorted, values quoted.
func flowMapOf(m map[string]string) *yaml.Node {
	out := flow()
	for _, k := range sortedKeys(m) {
		set(out, key(k), quoted(m[k]))
	}
	return out
}

// comment is text for a YAML comment: one line, no control characters
// (the encoder writes each line of a comment after a #; this keeps a
// comment to the line it was meant for, whatever the source held).
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
}

// comments joins lines into a head comment, each line made safe.
func comments(lines ...string) string {
	for i, l := range lines {
		lines[i] = "# " + comment(l)
		if l == "" {
			lines[i] = "#"
		}
	}
	return strings.Join(lines, "\n")
}

// bytes marshals the lab file, two spaces an indent.
func (d *doc) bytes() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{d.root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
