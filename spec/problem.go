package spec

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every problem found in a lab file.
var ErrInvalid = errors.New("invalid lab")

// Problem is one thing wrong with a lab file, at a position and a YAML path.
type Problem struct {
	File string
	Line int
	Col  int
	Path string // e.g. nodes.h1.interfaces.eth1.network
	Msg  string
}

func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Col)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (p *Problem) Unwrap() error { return ErrInvalid }

// Problems lists the problems in err (as returned by Load), in file order.
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(e error) {
		var p *Problem
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, c := range j.Unwrap() {
				walk(c)
			}
		} else if errors.As(e, &p) {
			out = append(out, p)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// path builds a YAML path: strings are keys joined with dots, ints are list
// indexes written as [i].
func path(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteString(".")
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// problems collects problems, each placed by its path.
type problems struct {
	file string
	pos  positions
	list []*Problem
}

func (ps *problems) add(at string, format string, args ...any) {
	line, col := ps.pos.find(at)
	ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Col: col, Path: clip(at), Msg: fmt.Sprintf(format, clipArgs(args)...)})
}

// addKey places the problem at the key of the mapping entry at path (for
// unknown keys), falling back to the entry's value.
func (ps *problems) addKey(at string, format string, args ...any) {
	line, col := ps.pos.findKey(at)
	ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Col: col, Path: clip(at), Msg: fmt.Sprintf(format, clipArgs(args)...)})
}

// maxQuoted is the longest value a problem quotes whole; a longer one (a
// 900 KB image name, a key of a megabyte) is cut, so that a file's
// problems stay about as big as the file.
const maxQuoted = 4096

// clip cuts a string past maxQuoted bytes, at a rune boundary, and says so.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}

func clipArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = clip(v)
		case error:
			if msg := v.Error(); len(msg) > maxQuoted {
				args[i] = clip(msg)
			}
		}
	}
	return args
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.File != b.File { // problems in .env come before the lab file's
			if a.File == ps.file || b.File == ps.file {
				return b.File == ps.file
			}
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Msg < b.Msg
	})
	errs := make([]error, 0, len(ps.list))
	for i, p := range ps.list {
		if i > 0 && p.Error() == ps.list[i-1].Error() {
			continue // one schema error can reach us by two routes
		}
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// maxListed is the most names a "(known: ...)" hint lists.
const maxListed = 50

// quoteList renders names as "a, b, c" for "(known: ...)" hints, sorted;
// past maxListed, the first of them and how many more there are.
func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	if len(s) > maxListed {
		return strings.Join(s[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}
