package nodeinit

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCopyTree copies a tree laid out as a ConfigMap volume lays it out
// (the files in a version folder, shown through "..data" and a link per
// top-level name) into a root: the files land at their paths, mode 0644,
// a link in the way is replaced rather than followed, and the volume's
// own "..*" names are not copied.
func TestCopyTree(t *testing.T) {
	vol, root := t.TempDir(), t.TempDir()
	version := filepath.Join(vol, "..2026_12_05_14_30_00.1")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(version, "etc/frr"), 0o755))
	must(os.WriteFile(filepath.Join(version, "etc/frr/frr.conf"), []byte("hostname r1\n"), 0o600))
	must(os.MkdirAll(filepath.Join(version, "etc/radvd"), 0o755))
	must(os.WriteFile(filepath.Join(version, "etc/radvd/radvd.conf"), []byte("interface eth0 {};\n"), 0o644))
	must(os.Symlink(filepath.Base(version), filepath.Join(vol, "..data")))
	must(os.Symlink("..data/etc", filepath.Join(vol, "etc")))
	// The image has frr.conf as a link to a file that must stay as it is.
	must(os.MkdirAll(filepath.Join(root, "etc/frr"), 0o750))
	must(os.WriteFile(filepath.Join(root, "image.conf"), []byte("the image's\n"), 0o644))
	must(os.Symlink("../../image.conf", filepath.Join(root, "etc/frr/frr.conf")))

	must(copyTree(vol, root))

	for path, want := range map[string]string{"etc/frr/frr.conf": "hostname r1\n", "etc/radvd/radvd.conf": "interface eth0 {};\n", "image.conf": "the image's\n"} {
		info, err := os.Lstat(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(root, path))
		if string(data) != want || !info.Mode().IsRegular() || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: %q, mode %v; want %q, a regular file, 0644", path, data, info.Mode(), want)
		}
	}
	if info, _ := os.Stat(filepath.Join(root, "etc/frr")); info.Mode().Perm() != 0o750 {
		t.Errorf("etc/frr is %v now: an existing folder keeps its mode", info.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(root, "..data")); !os.IsNotExist(err) {
		t.Errorf("..data was copied: %v", err)
	}
}
