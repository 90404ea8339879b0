package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Variables in a lab file are written as in docker compose and replaced in
// every scalar value (never in mapping keys) before the schema sees the file:
//
//	$VAR, ${VAR}      the value of VAR; an error if VAR is not set
//	${VAR:-default}   default if VAR is not set or empty
//	${VAR-default}    default if VAR is not set
//	${VAR:?message}   an error saying message if VAR is not set or empty
//	${VAR?message}    an error saying message if VAR is not set
//	${VAR:+other}     other if VAR is set and not empty, else empty
//	${VAR+other}      other if VAR is set, else empty
//	$$                a literal $
//
// A default (or other) may itself hold variables. Values come from the
// process environment first, then from a .env file beside the lab file.

// lookupEnv finds a variable in the process environment; tests replace it.
var lookupEnv = os.LookupEnv

// vars replaces variables in one lab file's values.
type vars struct {
	file   string // the lab file; its .env is read beside it
	ps     *problems
	loaded bool              // .env has been looked for
	dotenv map[string]string // from .env; nil if there is none
}

// substitute replaces the variables in every scalar value under root and
// records a problem, at the scalar's position, for each reference that
// cannot be resolved. A plain scalar that held a $ loses its resolved tag,
// so that "mtu: ${MTU}" decodes as a number; quoted scalars stay strings.
func substitute(root *yaml.Node, file string, ps *problems) {
	v := &vars{file: file, ps: ps}
	v.walk(root, "")
}

func (v *vars) walk(n *yaml.Node, at string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			v.walk(c, at)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			v.walk(c, path(at, i))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				v.walk(val, at)
				continue
			}
			v.walk(val, path(at, k.Value))
		}
	case yaml.ScalarNode:
		v.scalar(n, at)
	}
	// Aliases are not followed: the node they name is replaced where it
	// is written, once.
}

func (v *vars) scalar(n *yaml.Node, at string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	out, errs := v.expand(n.Value)
	for _, msg := range errs {
		v.ps.list = append(v.ps.list, &Problem{File: v.file, Line: n.Line, Col: n.Column, Path: at, Msg: msg})
	}
	if len(errs) > 0 {
		return
	}
	n.Value = out
	const notPlain = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
	if n.Style&notPlain == 0 {
		n.Tag = "" // resolve the type again from the new value
	}
}

// expand returns s with its variables replaced, and a message for each
// reference that failed.
func (v *vars) expand(s string) (string, []string) {
	var b strings.Builder
	var errs []string
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(rest, "{"):
			end := closingBrace(s, i+2)
			if end < 0 {
				errs = append(errs, fmt.Sprintf("unclosed variable reference %q: end it with }, or write $$ for a literal $", excerpt(s, i, i)))
				return b.String(), errs
			}
			val, msgs := v.braced(s[i:end+1], s[i+2:end])
			b.WriteString(val)
			errs = append(errs, msgs...)
			i = end + 1
		case rest != "" && isNameStart(rest[0]):
			n := nameLen(rest)
			name := rest[:n]
			val, ok := v.lookup(name)
			if !ok {
				errs = append(errs, unsetMsg(name))
			}
			b.WriteString(val)
			i += 1 + n
		default:
			errs = append(errs, fmt.Sprintf("a lone $ in %q: write $$ for a literal $, or ${NAME} for a variable", excerpt(s, 0, i)))
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), errs
}

// braced resolves one ${...} reference; ref is the whole reference and body
// what stands between the braces.
func (v *vars) braced(ref, body string) (string, []string) {
	n := strings.IndexAny(body, ":-?+")
	if n < 0 {
		n = len(body)
	}
	name, op := body[:n], body[n:]
	if name == "" {
		return "", []string{fmt.Sprintf("variable reference %q names no variable: write ${NAME}, or $$ for a literal $", ref)}
	}
	if !validName(name) {
		return "", []string{fmt.Sprintf("invalid variable name %q in %q: a name starts with a letter or _ and holds only letters, digits and _", name, ref)}
	}
	val, set := v.lookup(name)
	if op == "" {
		if !set {
			return "", []string{unsetMsg(name)}
		}
		return val, nil
	}
	colon := strings.HasPrefix(op, ":")
	kind := strings.TrimPrefix(op, ":")
	if kind == "" || !strings.ContainsRune("-?+", rune(kind[0])) {
		return "", []string{fmt.Sprintf("invalid operator %q after %s in %q: use :-, -, :?, ?, :+ or +", op[:min(len(op), 2)], name, ref)}
	}
	arg := kind[1:]
	// With a colon, an empty value counts as not set.
	present := set && (!colon || val != "")
	switch kind[0] {
	case '-':
		if present {
			return val, nil
		}
		return v.expand(arg)
	case '?':
		if present {
			return val, nil
		}
		if arg != "" {
			return "", []string{arg}
		}
		if set {
			return "", []string{fmt.Sprintf("variable %s is empty: give it a value", name)}
		}
		return "", []string{unsetMsg(name)}
	default: // '+'
		if present {
			return v.expand(arg)
		}
		return "", nil
	}
}

// excerpt quotes s from start, or from a little before at if s is long,
// for a message: a long command is cut to the part around at.
func excerpt(s string, start, at int) string {
	const before, after = 10, 20
	if len(s)-start <= before+after {
		return s[start:]
	}
	from, to := max(start, at-before), min(len(s), at+after)
	for from > start && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	out := s[from:to]
	if from > start {
		out = "..." + out
	}
	if to < len(s) {
		out += "..."
	}
	return out
}

func unsetMsg(name string) string {
	return fmt.Sprintf("variable %s is not set: set it in the environment or in .env beside the lab file, or write ${%s:-default}", name, name)
}

// closingBrace returns the index of the } that closes a ${ whose body
// starts at start, counting nested ${...}; -1 if there is none.
func closingBrace(s string, start int) int {
	depth := 1
	for i := start; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '$':
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// nameLen is the length of the variable name that s starts with.
func nameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isNameStart(c) && !('0' <= c && c <= '9') {
			return i
		}
	}
	return len(s)
}

func validName(s string) bool {
	return s != "" && isNameStart(s[0]) && nameLen(s) == len(s)
}

// lookup finds a variable in the environment, then in .env.
func (v *vars) lookup(name string) (string, bool) {
	if val, ok := lookupEnv(name); ok {
		return val, true
	}
	if !v.loaded {
		v.loaded = true
		v.dotenv = v.readDotEnv()
	}
	val, ok := v.dotenv[name]
	return val, ok
}

// readDotEnv reads the .env file beside the lab file, if there is one,
// recording a problem for each malformed line.
func (v *vars) readDotEnv() map[string]string {
	if v.file == "" {
		return nil
	}
	file := filepath.Join(filepath.Dir(v.file), ".env")
	data, err := ReadLabFile(filepath.Dir(v.file), ".env", MaxDotEnvBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		v.ps.list = append(v.ps.list, &Problem{File: file, Msg: fmt.Sprintf("read variables: %v", err)})
		return nil
	}
	env, problems := parseDotEnv(string(data), file)
	v.ps.list = append(v.ps.list, problems...)
	return env
}

// parseDotEnv reads KEY=VALUE lines as docker compose does: blank lines and
// # comments are skipped, "export " may precede a line, a value may be in
// single quotes (taken as written) or double quotes (with \n, \t, \\ and \"
// escapes), and " #comment" after an unquoted value is dropped.
func parseDotEnv(data, file string) (map[string]string, []*Problem) {
	env := map[string]string{}
	var problems []*Problem
	for i, line := range strings.Split(data, "\n") {
		bad := func(format string, args ...any) {
			problems = append(problems, &Problem{File: file, Line: i + 1, Col: 1, Msg: fmt.Sprintf(format, args...)})
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			bad("want KEY=VALUE, not %q", line)
			continue
		}
		key = strings.TrimSpace(key)
		if !validName(key) {
			bad("invalid variable name %q: a name starts with a letter or _ and holds only letters, digits and _", key)
			continue
		}
		val, err := dotEnvValue(strings.TrimSpace(val))
		if err != "" {
			bad("%s: %s", key, err)
			continue
		}
		env[key] = val
	}
	return env, problems
}

// dotEnvValue unquotes one .env value; err says what is wrong with it.
func dotEnvValue(s string) (val, err string) {
	if s == "" {
		return "", ""
	}
	var rest string
	switch s[0] {
	case '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", "unclosed ' quote: end the value with '"
		}
		val, rest = s[1:1+end], s[2+end:]
	case '"':
		var b strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '\\', '"':
					b.WriteByte(s[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(s[i])
				}
				continue
			}
			b.WriteByte(s[i])
		}
		if i == len(s) {
			return "", `unclosed " quote: end the value with "`
		}
		val, rest = b.String(), s[i+1:]
	default:
		// An unquoted value ends at " #".
		for i := 1; i < len(s); i++ {
			if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
				s = s[:i]
				break
			}
		}
		return strings.TrimSpace(s), ""
	}
	if rest = strings.TrimSpace(rest); rest != "" && rest[0] != '#' {
		return "", fmt.Sprintf("unexpected %q after the quoted value: put a comment after #", rest)
	}
	return val, ""
}
