package lab

import (
	"context"
	"fmt"

	"github.com/netlab/netlab/labs"
	"github.com/netlab/netlab/spec"
)

// Bundled is a lab that netlab carries (netlab labs lists them; netlab up
// NAME brings one up).
type Bundled struct {
	labs.Lab
	Nodes int `json:"nodes"`
	// Images maps each image the lab's nodes run to whether this host's
	// Docker engine has it, if Checked (the engine could be asked).
	Images  map[string]bool `json:"images"`
	Checked bool            `json:"images_checked"`
}

// BundledLabs lists the bundled labs, with which of their images this
// host has when the engine can say.
func BundledLabs(ctx context.Context) ([]Bundled, error) {
	var m *Manager
	if opened, err := Open(ctx, Options{}); err == nil {
		defer opened.Close()
		m = opened
	}
	var out []Bundled
	for _, l := range labs.List() {
		data, _ := labs.Content(l.Name)
		parsed, err := spec.Parse(data, l.Name+".yaml")
		if err != nil {
			return nil, fmt.Errorf("bundled lab %s: %w", l.Name, err)
		}
		b := Bundled{Lab: l, Nodes: len(parsed.Nodes), Images: map[string]bool{}, Checked: m != nil}
		for _, n := range parsed.Nodes {
			b.Images[n.Image] = false
		}
		for image := range b.Images {
			if b.Checked {
				b.Images[image], err = m.HasImage(ctx, image)
				b.Checked = err == nil
			}
		}
		out = append(out, b)
	}
	return out, nil
}
