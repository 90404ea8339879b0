package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/netlab/netlab/schema"
)

// The lab file's shape is checked against schema/lab.schema.json by the
// validator here, which knows the keywords that schema uses and no others
// (TestSchemaKeywords fails when the schema takes up one it does not
// know, and TestValidatorAgreesWithJSONSchema checks its verdicts against
// a full JSON Schema implementation). A library did this before: its
// package initialisation compiled every JSON Schema draft's metaschema in
// every netlab process, 14 ms of each command's 70 ms start.

// schemaNode is one schema of the lab schema.
type schemaNode struct {
	Ref           string                 `json:"$ref"`
	Type          schemaTypes            `json:"type"`
	Properties    map[string]*schemaNode `json:"properties"`
	Additional    *additional            `json:"additionalProperties"`
	Items         *schemaNode            `json:"items"`
	Required      []string               `json:"required"`
	Enum          []any                  `json:"enum"`
	Minimum       *json.Number           `json:"minimum"`
	Maximum       *json.Number           `json:"maximum"`
	MinLength     *int                   `json:"minLength"`
	MinItems      *int                   `json:"minItems"`
	MaxItems      *int                   `json:"maxItems"`
	MinProperties *int                   `json:"minProperties"`
	OneOf         []*schemaNode          `json:"oneOf"`
	Defs          map[string]*schemaNode `json:"$defs"`
}

// schemaKeywords are the keywords schemaNode reads, and those that only
// document (TestSchemaKeywords).
var schemaKeywords = []string{"$ref", "type", "properties", "additionalProperties", "items", "required",
	"enum", "minimum", "maximum", "minLength", "minItems", "maxItems", "minProperties", "oneOf", "$defs",
	"$schema", "$id", "title", "description"}

// schemaTypes is a schema's type: one name or a list of them.
type schemaTypes []string

func (t *schemaTypes) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*t = schemaTypes{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*t = list
	return nil
}

// additional is additionalProperties: false, or a schema for the values
// of keys that properties does not name.
type additional struct {
	none   bool
	schema *schemaNode
}

func (a *additional) UnmarshalJSON(data []byte) error {
	var b bool
	if json.Unmarshal(data, &b) == nil {
		a.none = !b
		return nil
	}
	return json.Unmarshal(data, &a.schema)
}

// typeOrder is the order a type problem names the types a value may be.
var typeOrder = []string{"null", "boolean", "number", "integer", "string", "array", "object"}

// labSchema is the lab schema, read once.
var labSchema = sync.OnceValue(func() *schemaNode {
	var root schemaNode
	d := json.NewDecoder(bytes.NewReader(schema.JSON))
	d.UseNumber()
	if err := d.Decode(&root); err != nil {
		panic("embedded schema: " + err.Error())
	}
	return &root
})

// issue is one thing the schema finds wrong, at a path of the lab file
// (at its key when key is set).
type issue struct {
	at     string
	key    bool
	format string
	args   []any
}

// validateSchema checks the lab file's JSON-like copy (see instance)
// against the lab schema, and adds what is wrong to ps.
func validateSchema(ps *problems, inst any) {
	root := labSchema()
	for _, is := range (&validation{root: root}).check(root, inst, "") {
		if is.key {
			ps.addKey(is.at, is.format, is.args...)
		} else {
			ps.add(is.at, is.format, is.args...)
		}
	}
}

type validation struct{ root *schemaNode }

// check validates v against s, as JSON Schema does for these keywords: a
// wrong type or a value outside an enum ends the checks of v; the others
// are all made.
func (vd *validation) check(s *schemaNode, v any, at string) []issue {
	var out []issue
	add := func(key bool, where, format string, args ...any) {
		out = append(out, issue{at: where, key: key, format: format, args: args})
	}
	got := jsonTypeOf(v)
	if len(s.Type) > 0 && !typeMatches(s.Type, v, got) {
		var want []string
		for _, t := range typeOrder {
			if slices.Contains(s.Type, t) {
				want = append(want, t)
			}
		}
		add(false, at, "must be %s, not %s", strings.Join(want, " or "), got)
		return out
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return jsonEqual(e, v) }) {
		want := make([]string, len(s.Enum))
		for i, w := range s.Enum {
			want[i] = fmt.Sprint(w)
		}
		add(false, at, "must be one of %s, not %v", strings.Join(want, ", "), v)
		return out
	}
	if s.Ref != "" {
		out = append(out, vd.check(vd.resolve(s.Ref), v, at)...)
	}
	switch x := v.(type) {
	case map[string]any:
		if s.MinProperties != nil && len(x) < *s.MinProperties {
			add(false, at, "needs at least %d entries", *s.MinProperties)
		}
		for _, name := range s.Required {
			if _, ok := x[name]; !ok {
				add(false, at, "missing required key %q", name)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if p, ok := s.Properties[k]; ok {
				out = append(out, vd.check(p, x[k], path(at, k))...)
				continue
			}
			switch {
			case s.Additional == nil:
			case s.Additional.none:
				add(true, path(at, k), "unknown key %q (known: %s)", k, quoteList(slices.Sorted(maps.Keys(s.Properties))))
			default:
				out = append(out, vd.check(s.Additional.schema, x[k], path(at, k))...)
			}
		}
	case []any:
		if s.MinItems != nil && len(x) < *s.MinItems {
			add(false, at, "needs at least %d items, has %d", *s.MinItems, len(x))
		}
		if s.MaxItems != nil && len(x) > *s.MaxItems {
			add(false, at, "takes at most %d items, has %d", *s.MaxItems, len(x))
		}
		if s.Items != nil {
			for i, item := range x {
				out = append(out, vd.check(s.Items, item, path(at, i))...)
			}
		}
	case string:
		if s.MinLength != nil && len([]rune(x)) < *s.MinLength {
			add(false, at, "must not be empty")
		}
	case json.Number:
		n, _ := new(big.Rat).SetString(x.String())
		if s.Minimum != nil && n != nil {
			if min, _ := new(big.Rat).SetString(s.Minimum.String()); min != nil && n.Cmp(min) < 0 {
				add(false, at, "must be at least %s, not %s", min.RatString(), n.RatString())
			}
		}
		if s.Maximum != nil && n != nil {
			if max, _ := new(big.Rat).SetString(s.Maximum.String()); max != nil && n.Cmp(max) > 0 {
				add(false, at, "must be at most %s, not %s", max.RatString(), n.RatString())
			}
		}
	}
	if len(s.OneOf) > 0 {
		var failed []issue
		matched := 0
		for _, alt := range s.OneOf {
			if is := vd.check(alt, v, at); len(is) > 0 {
				failed = append(failed, is...)
			} else {
				matched++
			}
		}
		switch {
		case matched == 0:
			out = append(out, failed...)
		case matched > 1:
			add(false, at, "fits more than one of its forms")
		}
	}
	return out
}

// resolve finds a "#/$defs/NAME" reference in the lab schema.
func (vd *validation) resolve(ref string) *schemaNode {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if s := vd.root.Defs[name]; ok && s != nil {
		return s
	}
	panic("embedded schema: unresolvable $ref " + ref)
}

// jsonTypeOf is the JSON type of a value of the lab file's copy.
func jsonTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// typeMatches reports whether v, of JSON type got, is one of types: a
// number without a fraction is an integer.
func typeMatches(types []string, v any, got string) bool {
	if slices.Contains(types, got) {
		return true
	}
	if n, ok := v.(json.Number); ok && slices.Contains(types, "integer") {
		r, ok := new(big.Rat).SetString(n.String())
		return ok && r.IsInt()
	}
	return false
}

// jsonEqual compares an enum's value with a value of the lab file: numbers
// by value, others as they are.
func jsonEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		x, xok := new(big.Rat).SetString(an.String())
		y, yok := new(big.Rat).SetString(bn.String())
		return xok && yok && x.Cmp(y) == 0
	}
	if aok || bok {
		return false
	}
	switch a.(type) {
	case map[string]any, []any:
		return false // no enum of the lab schema holds these
	}
	return a == b
}
