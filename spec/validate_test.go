package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/schema"
)

// The validator knows every keyword the lab schema uses: a keyword it
// does not know would be silently ignored.
func TestSchemaKeywords(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(schema.JSON, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(at string, s any)
	walk = func(at string, s any) {
		m, ok := s.(map[string]any)
		if !ok {
			return // additionalProperties: false
		}
		for k, v := range m {
			if !slices.Contains(schemaKeywords, k) {
				t.Errorf("%s: keyword %q: the validator (spec/validate.go) does not know it", at, k)
			}
			switch k {
			case "properties", "$defs":
				for name, sub := range v.(map[string]any) {
					walk(at+"/"+k+"/"+name, sub)
				}
			case "items", "additionalProperties":
				walk(at+"/"+k, v)
			case "oneOf":
				for i, sub := range v.([]any) {
					walk(at+"/oneOf/"+strconv.Itoa(i), sub)
				}
			}
		}
	}
	walk("#", root)
}

// The validator's verdicts are a JSON Schema implementation's: the lab
// files of this repository, and mutants of each (a value replaced by one
// of another type or out of range, a key added or removed), give the
// same problems, path by path, from both.
func TestValidatorAgreesWithJSONSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.URL, doc); err != nil {
		t.Fatal(err)
	}
	reference := c.MustCompile(schema.URL)

	files, _ := filepath.Glob("../labs/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("only %d lab files to try", len(files))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	compared, invalid := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var root yaml.Node
		if yaml.Unmarshal(data, &root) != nil {
			continue
		}
		ps := &problems{pos: positions{value: map[string]pos{}, key: map[string]pos{}}}
		orig, err := instance(&root, ps.pos, aliasBudget(len(data)))
		if err != nil {
			continue
		}
		for i := range 150 {
			inst := orig
			if i > 0 {
				inst = mutate(rng, deepCopy(orig))
			}
			ours := ourIssues(inst)
			theirs := referenceIssues(reference, inst)
			compared++
			if len(theirs) > 0 {
				invalid++
			}
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
				js, _ := json.Marshal(inst)
				t.Errorf("%s, mutant %d: the validator says\n  %s\nJSON Schema says\n  %s\nof %s", f, i,
					strings.Join(ours, "\n  "), strings.Join(theirs, "\n  "), clipString(string(js), 2000))
			}
		}
	}
	if invalid < compared/3 {
		t.Errorf("only %d of %d documents were invalid: the mutations do not exercise the checks", invalid, compared)
	}
	t.Logf("%d documents, %d of them invalid", compared, invalid)
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func ourIssues(inst any) []string {
	root := labSchema()
	var out []string
	for _, is := range (&validation{root: root}).check(root, inst, "") {
		msg := fmt.Sprintf(is.format, is.args...)
		if i := strings.Index(msg, " (known: "); i > 0 && strings.HasPrefix(msg, "unknown key") {
			msg = msg[:i]
		}
		out = append(out, is.at+": "+msg)
	}
	sort.Strings(out)
	return out
}

// referenceIssues are the library's verdict in the validator's words.
func referenceIssues(s *jsonschema.Schema, inst any) []string {
	err := s.Validate(inst)
	if err == nil {
		return nil
	}
	var out []string
	var leaves func(ve *jsonschema.ValidationError)
	leaves = func(ve *jsonschema.ValidationError) {
		if len(ve.Causes) > 0 {
			for _, c := range ve.Causes {
				leaves(c)
			}
			return
		}
		at := instancePath(inst, ve.InstanceLocation)
		add := func(where, format string, args ...any) { out = append(out, where+": "+fmt.Sprintf(format, args...)) }
		switch k := ve.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, name := range k.Properties {
				add(path(at, name), "unknown key %q", name)
			}
		case *kind.Required:
			for _, name := range k.Missing {
				add(at, "missing required key %q", name)
			}
		case *kind.Type:
			add(at, "must be %s, not %s", strings.Join(k.Want, " or "), k.Got)
		case *kind.Enum:
			want := make([]string, len(k.Want))
			for i, w := range k.Want {
				want[i] = fmt.Sprint(w)
			}
			add(at, "must be one of %s, not %v", strings.Join(want, ", "), k.Got)
		case *kind.MinItems:
			add(at, "needs at least %d items, has %d", k.Want, k.Got)
		case *kind.MaxItems:
			add(at, "takes at most %d items, has %d", k.Want, k.Got)
		case *kind.MinProperties:
			add(at, "needs at least %d entries", k.Want)
		case *kind.Minimum:
			add(at, "must be at least %s, not %s", k.Want.RatString(), k.Got.RatString())
		case *kind.Maximum:
			add(at, "must be at most %s, not %s", k.Want.RatString(), k.Got.RatString())
		case *kind.MinLength:
			add(at, "must not be empty")
		default:
			add(at, "%s", ve.ErrorKind.LocalizedString(nil))
		}
	}
	if ve, ok := err.(*jsonschema.ValidationError); ok {
		leaves(ve)
	} else {
		out = append(out, err.Error())
	}
	sort.Strings(out)
	return out
}

// instancePath is a JSON pointer's tokens as the lab file's path: an
// index where the value is a list.
func instancePath(inst any, tokens []string) string {
	var parts []any
	v := inst
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			parts = append(parts, i)
			v = x[i]
		case map[string]any:
			parts = append(parts, tok)
			v = x[tok]
		}
	}
	return path(parts...)
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// replacements are the values a mutant puts in place of one.
var replacements = []any{"", "x", json.Number("0"), json.Number("1"), json.Number("7"), json.Number("-1"), json.Number("1.5"),
	json.Number("65535"), json.Number("65536"), json.Number("70000"), true, nil, []any{}, []any{"x"}, map[string]any{}, map[string]any{"bogus": json.Number("1")}}

// mutate changes one to three places of the document.
func mutate(rng *rand.Rand, doc any) any {
	for range 1 + rng.IntN(3) {
		doc = mutateOnce(rng, doc)
	}
	return doc
}

func mutateOnce(rng *rand.Rand, doc any) any {
	// Every container of the document, then one picked.
	var containers []any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			containers = append(containers, x)
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			containers = append(containers, x)
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	if len(containers) == 0 {
		return replacements[rng.IntN(len(replacements))]
	}
	switch x := containers[rng.IntN(len(containers))].(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		switch op := rng.IntN(4); {
		case op == 0 || len(keys) == 0:
			x["bogus_key"] = "x"
		case op == 1:
			delete(x, keys[rng.IntN(len(keys))])
		default:
			x[keys[rng.IntN(len(keys))]] = replacements[rng.IntN(len(replacements))]
		}
	case []any:
		if len(x) > 0 {
			x[rng.IntN(len(x))] = replacements[rng.IntN(len(replacements))]
		}
	}
	return doc
}
