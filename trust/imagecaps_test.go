package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/netlab/netlab/spec"
)

// TestImageCapsOfALayout: an OCI layout in the lab's folder whose label
// netlab.cap_add gives capabilities beyond the defaults asks for them, as
// cap_add would; what the node drops, it does not ask.
func TestImageCapsOfALayout(t *testing.T) {
	dir := t.TempDir()
	img, err := mutate.Config(empty.Image, v1.Config{Labels: map[string]string{"netlab.cap_add": "SYS_ADMIN,NET_ADMIN, sys_module"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(filepath.Join(dir, "img"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ node, want string }{
		{"{image: oci:./img}", "the image oci:./img of node a gives it capabilities SYS_ADMIN, SYS_MODULE beyond the defaults"},
		{"{image: oci:./img, cap_drop: [SYS_ADMIN]}", "capabilities SYS_MODULE beyond"},
		{"{image: oci:./img, cap_drop: [ALL]}", ""},
	} {
		file := filepath.Join(dir, "lab.yaml")
		if err := os.WriteFile(file, []byte("name: caps\nnodes:\n  a: "+tt.node+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := spec.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range Requests(l) {
			got = append(got, string(r.Kind)+": "+r.Text)
		}
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: requests %q, want none", tt.node, got)
		case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], "image-caps: ") || !strings.Contains(got[0], tt.want)):
			t.Errorf("%s: requests %q, want one saying %q", tt.node, got, tt.want)
		}
	}
}
