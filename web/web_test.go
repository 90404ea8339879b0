package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBundleIsFresh fails when dist/ was not rebuilt after its sources
// changed: dist/SOURCES records the digest of src/, the npm manifests and
// hash.mjs as hash.mjs computes it at each build (make web).
func TestBundleIsFresh(t *testing.T) {
	files := []string{"package.json", "package-lock.json", "hash.mjs"}
	src, err := os.ReadDir("src")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range src {
		files = append(files, "src/"+e.Name())
	}
	slices.Sort(files)
	all := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		all.Write([]byte(f + "\n" + hex.EncodeToString(sum[:]) + "\n"))
	}
	want := hex.EncodeToString(all.Sum(nil))
	recorded, err := fs.ReadFile(Files(), "SOURCES")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(recorded)); got != want {
		t.Errorf("web/dist is stale: built from sources %s, the sources are now %s; run make web and commit web/dist", got, want)
	}
	for _, f := range []string{"index.html", "app.js", "app.css"} {
		if _, err := fs.Stat(Files(), f); err != nil {
			t.Errorf("the bundle has no %s: run make web", f)
		}
	}
}
