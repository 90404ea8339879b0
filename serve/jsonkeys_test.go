package serve

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/netlab/netlab/checks"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve/store"
	"github.com/netlab/netlab/spec"
)

// answerTypes are the types the API answers with (and what they hold).
var answerTypes = []any{
	labDetail{}, labState{}, lab.UpResult{}, lab.DownResult{}, lab.LinkResult{}, spec.Link{},
	checks.Result{}, lab.Bundled{}, store.Class{}, store.Lab{}, store.User{}, store.Result{}, store.AuditEntry{},
	Grid{}, Login{}, me{}, termInfo{}, stageProgress{}, labProgress{},
}

var lowerKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestAnswersHaveLowerCaseKeys walks every type the API answers with:
// every field it encodes has a lower-case JSON key.
func TestAnswersHaveLowerCaseKeys(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		if typ.Implements(reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()) {
			return // it says its own keys
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			if f.Anonymous && tag == "" {
				walk(f.Type, path)
				continue
			}
			if !lowerKey.MatchString(tag) {
				t.Errorf("%s: field %s.%s is encoded as %q: give it a lower-case json tag", path, typ, f.Name, cmp(tag, f.Name))
			}
			walk(f.Type, path+"."+cmp(tag, f.Name))
		}
	}
	for _, v := range answerTypes {
		typ := reflect.TypeOf(v)
		walk(typ, typ.String())
	}
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
