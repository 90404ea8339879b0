package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// Load reads, checks and defaults the lab file at path. Every problem found
// is reported at once: the error joins *Problem values, each wrapping
// ErrInvalid. Other errors (a missing file) do not wrap ErrInvalid.
func Load(file string) (*Lab, error) {
	data, err := ReadFileSafely(file, int64(MaxFileBytes))
	if err != nil {
		return nil, fmt.Errorf("read lab file: %w", err)
	}
	return Parse(data, file)
}

// CheckYAMLInput refuses, from its bytes alone, YAML that is too big or
// nested too deep for a parser (MaxFileBytes, MaxDepth): for other YAML
// files that netlab reads, such as containerlab topologies.
func CheckYAMLInput(data []byte, file string) error {
	ps := &problems{file: file, pos: positions{value: map[string]pos{}, key: map[string]pos{}}}
	precheck(data, ps)
	return ps.err()
}

// Limits on a lab file. Loading and planning take time and memory in
// proportion to a file's size (about 17 s of CPU time and 2.3 GB to
// validate a chain of 100,000 routers with 300,000 interfaces on this
// project's 2-core machine); past these limits a file is refused as soon as
// its YAML is read, before the schema, rather than worked on for minutes.
// (Variables, so that tests can lower them.)
var (
	MaxFileBytes  = 64 << 20 // bytes of YAML
	MaxNodes      = 100_000  // entries under nodes
	MaxInterfaces = 400_000  // entries under the nodes' interfaces, all nodes together
	MaxLinks      = 200_000  // entries under links
)

// Parse is Load on bytes; file names the source in problems.
func Parse(data []byte, file string) (*Lab, error) {
	ps := &problems{file: file, pos: positions{value: map[string]pos{}, key: map[string]pos{}}}
	if !precheck(data, ps) {
		return nil, ps.err()
	}

	// Stage 1: YAML syntax, one document.
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add("", "the file is empty: a lab needs at least a name and nodes")
			return nil, ps.err()
		}
		return nil, syntaxError(file, data, err)
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		ps.list = append(ps.list, &Problem{File: file, Line: extra.Line, Col: extra.Column, Msg: "a lab file holds one YAML document; found a second"})
		return nil, ps.err()
	}

	if err := limits(&root, file); err != nil {
		return nil, err
	}

	// Stage 1b: variables ($VAR, ${VAR:-default}, ...) in values, from the
	// environment and a .env file beside the lab file.
	substitute(&root, file, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}

	// Stage 2: the schema, on a JSON-like copy that remembers positions.
	inst, err := instance(&root, ps.pos, aliasBudget(len(data)))
	if err != nil {
		return nil, yamlSyntax(file, err)
	}
	if validateSchema(ps, inst); len(ps.list) > 0 {
		return nil, ps.err()
	}

	// Stage 3: typed decode. The schema has vetted the shape already.
	lab := &Lab{File: file, Data: data}
	if err := root.Decode(lab); err != nil {
		return nil, yamlSyntax(file, err)
	}

	// Stage 4: what ssh_entry adds, defaults, then semantic checks and
	// address allocation.
	expandSSHEntry(lab, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	applyDefaults(lab)
	check(lab, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	lab.pos = ps.pos
	return lab, nil
}

// syntaxError reports a YAML syntax error at its place. yaml.v3 gives a
// line only, and for many errors the line where the enclosing construct
// began (an unclosed flow mapping three lines up, or the line before); a
// second parser, goccy/go-yaml, finds the token at fault with its column.
// When it sees no error, yaml.v3's report stands.
func syntaxError(file string, data []byte, err error) (out error) {
	if len(data) > MaxSecondOpinionBytes {
		return yamlSyntax(file, err)
	}
	defer func() {
		if recover() != nil { // the second opinion must never cost the first
			out = yamlSyntax(file, err)
		}
	}()
	_, gerr := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(gerr, &se) || se.Token == nil || se.Token.Position == nil {
		return yamlSyntax(file, err)
	}
	msg := se.Message
	if strings.Contains(msg, "'\t'") {
		msg = "a tab: YAML indents with spaces only"
	}
	return errors.Join(&Problem{File: file, Line: se.Token.Position.Line, Col: se.Token.Position.Column, Msg: msg})
}

// limits refuses a lab with more nodes, interfaces or links than netlab
// takes (MaxNodes, MaxInterfaces, MaxLinks), counted in the YAML tree as
// written, before the work that grows with them.
func limits(root *yaml.Node, file string) error {
	var errs []error // of *Problem
	refuse := func(key *yaml.Node, format string, args ...any) {
		errs = append(errs, &Problem{File: file, Line: key.Line, Col: key.Column, Path: key.Value, Msg: fmt.Sprintf(format, args...)})
	}
	top := value(root)
	if top == nil || top.Kind != yaml.MappingNode {
		return nil // the schema says what is wrong
	}
	for k := 0; k+1 < len(top.Content); k += 2 {
		key, v := top.Content[k], value(top.Content[k+1])
		switch {
		case v == nil:
		case key.Value == "nodes" && v.Kind == yaml.MappingNode:
			if n := len(v.Content) / 2; n > MaxNodes {
				refuse(key, "the lab has %d nodes; netlab takes at most %d in one lab: split it", n, MaxNodes)
			}
			ifaces := 0
			for j := 1; j < len(v.Content); j += 2 {
				node := value(v.Content[j])
				for i := 0; node != nil && node.Kind == yaml.MappingNode && i+1 < len(node.Content); i += 2 {
					if in := value(node.Content[i+1]); node.Content[i].Value == "interfaces" && in != nil && in.Kind == yaml.MappingNode {
						ifaces += len(in.Content) / 2
					}
				}
			}
			if ifaces > MaxInterfaces {
				refuse(key, "the lab has %d interfaces; netlab takes at most %d in one lab: split it", ifaces, MaxInterfaces)
			}
		case key.Value == "links" && v.Kind == yaml.SequenceNode:
			if n := len(v.Content); n > MaxLinks {
				refuse(key, "the lab has %d links; netlab takes at most %d in one lab: split it", n, MaxLinks)
			}
		}
	}
	return errors.Join(errs...)
}

// value is n, or the node an alias stands for, or a document's content.
func value(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntax turns a yaml.v3 error into a Problem with a position.
func yamlSyntax(file string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	p := &Problem{File: file, Col: 1, Msg: msg}
	if m := yamlLine.FindStringSubmatch("yaml: " + msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	} else if strings.HasPrefix(msg, "line ") {
		if i := strings.Index(msg, ": "); i > 0 {
			p.Line, _ = strconv.Atoi(msg[5:i])
			p.Msg = msg[i+2:]
		}
	}
	if p.Line == 0 {
		p.Col = 0
	}
	return errors.Join(p)
}
