package spec

import "fmt"

// Limits that hold before any YAML parser sees a file. yaml.v3 and the
// second parser that places syntax errors (goccy/go-yaml) both spend time
// and memory out of proportion on deeply nested flow collections: 20,000
// bytes of "[" cost 2 s and 635 MB. A lab file nests a few levels; past
// MaxDepth the file is refused from its bytes alone.
var (
	MaxDepth = 64 // nested flow collections ([ and {)
	// MaxSecondOpinionBytes bounds the files the second parser reads to
	// place a syntax error; a bigger file's error keeps yaml.v3's place.
	MaxSecondOpinionBytes = 1 << 20
)

// flowDepth scans YAML text for the deepest nesting of flow collections,
// outside quoted scalars and comments, and returns it with the line and
// column (1-based) where it first passes limit (0, 0 if it never does).
// Outside any flow collection a [ or { starts one only where a value can
// start (a line's first character, or after ": ", "- ", "? "), so that a
// plain scalar such as "echo [x" does not count; inside one, every bracket
// counts. It overestimates at worst, for brackets in block scalars (|, >).
func flowDepth(data []byte, limit int) (depth, line, col int) {
	ln, lineStart := 1, 0
	valueStart := true // at a place where a flow collection may begin
	for i := 0; i < len(data); i++ {
		b := data[i]
		switch {
		case b == '\n':
			ln, lineStart = ln+1, i+1
			valueStart = true
			continue
		case b == '#' && (i == lineStart || data[i-1] == ' ' || data[i-1] == '\t'):
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
			continue
		case b == '"' && (depth > 0 || valueStart):
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				} else if data[i] == '\n' {
					ln, lineStart = ln+1, i+1
				}
			}
			valueStart = false
			continue
		case b == '\'' && (depth > 0 || valueStart):
			for i++; i < len(data); i++ {
				if data[i] == '\'' {
					if i+1 < len(data) && data[i+1] == '\'' {
						i++
						continue
					}
					break
				}
				if data[i] == '\n' {
					ln, lineStart = ln+1, i+1
				}
			}
			valueStart = false
			continue
		case (b == '[' || b == '{') && (depth > 0 || valueStart):
			if depth++; depth > limit && line == 0 {
				line, col = ln, i-lineStart+1
			}
			valueStart = true
			continue
		case (b == ']' || b == '}') && depth > 0:
			depth--
		case b == ' ' || b == '\t':
			continue // keeps valueStart
		case (b == ':' || b == '-' || b == '?' || b == ',') && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' || depth > 0 && b == ','):
			valueStart = true
			continue
		}
		valueStart = false
	}
	return depth, line, col
}

// precheck refuses, from its bytes alone, a file too big or nested too
// deep for the parsers.
func precheck(data []byte, ps *problems) bool {
	if len(data) > MaxFileBytes {
		ps.add("", "the file has %d bytes; a lab file may have at most %d (%d MiB): split the lab", len(data), MaxFileBytes, MaxFileBytes>>20)
		return false
	}
	if _, line, col := flowDepth(data, MaxDepth); line > 0 {
		ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Col: col,
			Msg: fmt.Sprintf("flow collections ([ and {) nest more than %d deep here: a lab file needs a few levels; close the brackets", MaxDepth)})
		return false
	}
	return true
}
