package graph

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Formats are the formats Render draws in.
var Formats = []string{"dot", "json", "mermaid", "svg", "text"}

// extensions maps a file's extension to the format it holds.
var extensions = map[string]string{".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json", ".txt": "text"}

// FormatOf is the format a picture written to file has: by its
// extension, SVG where there is none that says; text for no file.
func FormatOf(file string) string {
	if file == "" {
		return "text"
	}
	if f, ok := extensions[strings.ToLower(filepath.Ext(file))]; ok {
		return f
	}
	return "svg"
}

// Render draws the topology in format (one of Formats).
func (t *Topology) Render(format string) ([]byte, error) {
	switch format {
	case "text":
		return []byte(t.Text()), nil
	case "svg":
		return []byte(t.SVG()), nil
	case "dot":
		return []byte(t.DOT()), nil
	case "mermaid":
		return []byte(t.Mermaid()), nil
	case "json":
		return t.JSON(), nil
	}
	return nil, fmt.Errorf("unknown graph format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// Known tells whether format is one of Formats.
func Known(format string) bool { return slices.Contains(Formats, format) }
