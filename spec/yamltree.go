package spec

import (
	"encoding/json"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

type pos struct{ line, col int }

// positions maps YAML paths (as built by path) to where they stand in the
// file: the value, and for mapping entries also the key.
type positions struct {
	value map[string]pos
	key   map[string]pos
}

// find returns the position of the path's value, or of its nearest parent.
func (p positions) find(at string) (int, int) {
	for {
		if q, ok := p.value[at]; ok {
			return q.line, q.col
		}
		parent, ok := parentPath(at)
		if !ok {
			return 0, 0
		}
		at = parent
	}
}

// findKey returns the position of the key of the mapping entry at path.
func (p positions) findKey(at string) (int, int) {
	if q, ok := p.key[at]; ok {
		return q.line, q.col
	}
	return p.find(at)
}

func parentPath(at string) (string, bool) {
	for i := len(at) - 1; i >= 0; i-- {
		switch at[i] {
		case '.':
			return at[:i], true
		case '[':
			return at[:i], true
		}
	}
	return "", at != ""
}

// instance converts a YAML tree into the JSON-like value the schema
// validator takes (map[string]any, []any, string, bool, json.Number, nil),
// recording the position of every path on the way. Aliases are expanded and
// merge keys (<<) applied.
func instance(n *yaml.Node, ps positions, byteBudget int) (any, error) {
	c := &converter{ps: ps, byteBudget: byteBudget}
	return c.convert(n, "", 0)
}

// maxAliased bounds the values that alias expansion may add, against
// "billion laughs" documents; aliasBudget bounds the bytes of the scalars
// they add, against a few aliases of a long string (1,500 aliases of a
// 900 KB string are 1.3 GB for the checks to read and quote). Values
// written out are bounded by file size.
const (
	maxAliased     = 1 << 16
	minAliasBudget = 1 << 20
)

// aliasBudget is the bytes that aliases may add to a file of size bytes:
// as many as the file has, and at least 1 MiB.
func aliasBudget(size int) int { return max(size, minAliasBudget) }

type converter struct {
	ps         positions
	aliasDepth int // > 0 while expanding an alias
	aliased    int // values added by alias expansion so far
	byteBudget int // bytes of scalars that alias expansion may still add
}

func (c *converter) convert(n *yaml.Node, at string, depth int) (any, error) {
	if c.aliasDepth > 0 {
		if c.aliased++; c.aliased > maxAliased {
			return nil, fmt.Errorf("line %d: aliases expand to more than %d values", n.Line, maxAliased)
		}
		if c.byteBudget -= len(n.Value) + len(at); c.byteBudget < 0 {
			return nil, fmt.Errorf("line %d: aliases expand to more bytes than the file has (at least 1 MiB): write the values out, or shorten them", n.Line)
		}
	}
	if depth > 64 {
		return nil, fmt.Errorf("line %d: nesting too deep (aliases that refer to themselves?)", n.Line)
	}
	if _, seen := c.ps.value[at]; !seen {
		c.ps.value[at] = pos{n.Line, n.Column}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], at, depth+1)
	case yaml.AliasNode:
		c.aliasDepth++
		defer func() { c.aliasDepth-- }()
		return c.convert(n.Alias, at, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := c.convert(item, path(at, i), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		keyLine := make(map[string]int, len(n.Content)/2) // keys written here, not merged
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				if err := c.merge(out, v, at, depth); err != nil {
					return nil, err
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain value", k.Line)
			}
			if first, dup := keyLine[k.Value]; dup {
				return nil, fmt.Errorf("line %d: mapping key %q already defined at line %d", k.Line, k.Value, first)
			}
			keyLine[k.Value] = k.Line
			child := path(at, k.Value)
			c.ps.key[child] = pos{k.Line, k.Column}
			if v.Kind != yaml.ScalarNode {
				// Point problems about a whole mapping or list at its key.
				c.ps.value[child] = pos{k.Line, k.Column}
			}
			val, err := c.convert(v, child, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// merge applies a "<<: *anchor" (or a list of anchors) to out; keys already
// in out win, as YAML's merge key says.
func (c *converter) merge(out map[string]any, v *yaml.Node, at string, depth int) error {
	for v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	srcs := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	}
	c.aliasDepth++
	defer func() { c.aliasDepth-- }()
	for _, s := range srcs {
		m, err := c.convert(s, at, depth+1)
		if err != nil {
			return err
		}
		mm, ok := m.(map[string]any)
		if !ok {
			return fmt.Errorf("line %d: a merge key (<<) takes a mapping", s.Line)
		}
		for k, x := range mm {
			if _, has := out[k]; !has {
				out[k] = x
			}
		}
	}
	return nil
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil
}
