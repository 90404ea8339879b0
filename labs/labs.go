// Package labs is netlab's library of labs: the lab files in this folder,
// built into the binary, so that `netlab up ospf` works wherever netlab is
// installed. A bundled lab is written to Dir when it is used, so that the
// lab has a real file (its nodes record where they came from).
package labs

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Dir is where bundled labs are written when they are used.
var Dir = "/var/lib/netlab/labs"

// Lab is a bundled lab.
type Lab struct {
	Name  string `json:"name"`
	About string `json:"about"` // the first sentence of the file's header comment
}

// List returns the bundled labs, by name.
func List() []Lab {
	entries, _ := fs.Glob(files, "*.yaml")
	slices.Sort(entries)
	out := make([]Lab, 0, len(entries))
	for _, e := range entries {
		data, _ := files.ReadFile(e)
		out = append(out, Lab{Name: strings.TrimSuffix(e, ".yaml"), About: about(string(data))})
	}
	return out
}

// Has tells whether name is a bundled lab.
func Has(name string) bool {
	_, err := fs.Stat(files, name+".yaml")
	return err == nil && !strings.ContainsAny(name, "/.")
}

// Content returns a bundled lab's file.
func Content(name string) ([]byte, error) {
	if !Has(name) {
		return nil, fmt.Errorf("no bundled lab %q", name)
	}
	return files.ReadFile(name + ".yaml")
}

// Path writes the bundled lab to Dir (unless it is there already, the
// same) and returns the file's path.
func Path(name string) (string, error) {
	data, err := Content(name)
	if err != nil {
		return "", err
	}
	file := filepath.Join(Dir, name+".yaml")
	if old, err := os.ReadFile(file); err == nil && string(old) == string(data) {
		return file, nil
	}
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return "", fmt.Errorf("bundled lab %s: %w", name, err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", fmt.Errorf("bundled lab %s: %w", name, err)
	}
	return file, os.Rename(tmp, file)
}

// about takes the first sentence of a lab file's header comment.
func about(src string) string {
	var text []string
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if strings.HasPrefix(line, "yaml-language-server:") {
			continue
		}
		if line == "" {
			if len(text) > 0 {
				break
			}
			continue
		}
		text = append(text, line)
	}
	s := strings.Join(text, " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
