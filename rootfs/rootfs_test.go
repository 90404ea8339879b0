package rootfs

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ent is one tar entry of a test layer.
type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	uid              int
	mtime            time.Time
}

var epoch = time.Unix(1700000000, 0)

func layerTar(t *testing.T, ents []ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.uid, Linkname: e.link, ModTime: e.mtime, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.ModTime.IsZero() {
			h.ModTime = epoch
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layer(t *testing.T, ents []ent) v1.Layer {
	t.Helper()
	b := layerTar(t, ents)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testImage is a random base layer, a lower layer with a tree, and an upper
// layer that deletes a file (.wh.), empties a directory (.wh..wh..opq) and
// replaces or adds others, with a configuration.
func testImage(t *testing.T) (v1.Image, []string) {
	t.Helper()
	base, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var randomFiles []string
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		randomFiles = append(randomFiles, h.Name)
	}
	rc.Close()
	lower := layer(t, []ent{
		{name: "etc/", typ: tar.TypeDir, mode: 0o750, mtime: epoch.Add(time.Hour)},
		{name: "etc/keep", body: "old"},
		{name: "etc/gone", body: "deleted above"},
		{name: "opq/", typ: tar.TypeDir},
		{name: "opq/a", body: "a"},
		{name: "opq/sub/", typ: tar.TypeDir},
		{name: "opq/sub/b", body: "b"},
		{name: "usr/", typ: tar.TypeDir},
		{name: "usr/bin/", typ: tar.TypeDir},
		{name: "usr/bin/tool", body: "#!/bin/sh\n", mode: 0o4755, uid: 1000},
		{name: "usr/bin/tool2", typ: tar.TypeLink, link: "usr/bin/tool"},
		{name: "bin", typ: tar.TypeSymlink, link: "usr/bin"},
		{name: "abs", typ: tar.TypeSymlink, link: "/etc"},
		{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		{name: "ro/file", body: "in a read-only dir"},
		{name: "fifo", typ: tar.TypeFifo, mode: 0o600},
	})
	upper := layer(t, []ent{
		// no entry for etc/ itself: its lower entry's mode still applies
		{name: "etc/.wh.gone"},
		{name: "etc/keep", body: "new"},
		{name: "etc/added", body: "added"},
		{name: "opq/", typ: tar.TypeDir},
		{name: "opq/.wh..wh..opq"},
		{name: "opq/c", body: "c"},
		{name: "ro/.wh.file"},
	})
	img, err := mutate.AppendLayers(base, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Entrypoint = []string{"/bin/tool"}
	cfg.Cmd = []string{"run"}
	cfg.Env = []string{"PATH=/bin"}
	cfg.WorkingDir = "/etc"
	cfg.User = "1000"
	cfg.Labels = map[string]string{"role": "test"}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img, randomFiles
}

// checkTree checks the unpacked test image.
func checkTree(t *testing.T, dir string, randomFiles []string) {
	t.Helper()
	files := map[string]string{"etc/keep": "new", "etc/added": "added", "opq/c": "c", "usr/bin/tool": "#!/bin/sh\n"}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	for _, p := range append([]string{"etc/gone", "opq/a", "opq/sub", "ro/file"}, "etc/.wh.gone", "opq/.wh..wh..opq") {
		if _, err := os.Lstat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it gone", p, err)
		}
	}
	for _, p := range randomFiles {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("random layer's %s: %v", p, err)
		}
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin")); err != nil || l != "usr/bin" {
		t.Errorf("bin -> %q, %v", l, err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "abs")); err != nil || l != "/etc" {
		t.Errorf("abs -> %q, %v", l, err)
	}
	var a, b syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "usr/bin/tool"), &a); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(dir, "usr/bin/tool2"), &b); err != nil {
		t.Fatal(err)
	}
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("usr/bin/tool2 is not a hard link of usr/bin/tool (inodes %d, %d, links %d)", a.Ino, b.Ino, a.Nlink)
	}
	if a.Mode&0o7777 != 0o4755 {
		t.Errorf("usr/bin/tool mode %o, want 4755", a.Mode&0o7777)
	}
	if os.Geteuid() == 0 && a.Uid != 1000 {
		t.Errorf("usr/bin/tool owner %d, want 1000", a.Uid)
	}
	modes := map[string]os.FileMode{"etc": os.ModeDir | 0o750, "ro": os.ModeDir | 0o555, "fifo": os.ModeNamedPipe | 0o600, ".": os.ModeDir | 0o755}
	for p, want := range modes {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, fi.Mode(), err, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dir, "etc")); err != nil || !fi.ModTime().Equal(epoch.Add(time.Hour)) {
		t.Errorf("etc: mtime %v, want %v", fi.ModTime(), epoch.Add(time.Hour))
	}
	if fi, err := os.Lstat(filepath.Join(dir, "etc/keep")); err != nil || !fi.ModTime().Equal(epoch) {
		t.Errorf("etc/keep: mtime %v, want %v", fi.ModTime(), epoch)
	}
}

func checkConfig(t *testing.T, img *Image, want v1.Image) {
	t.Helper()
	id, err := want.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != id.String() {
		t.Errorf("ID %s, want the config digest %s", img.ID, id)
	}
	if !slices.Equal(img.Entrypoint, []string{"/bin/tool"}) || !slices.Equal(img.Cmd, []string{"run"}) ||
		!slices.Equal(img.Env, []string{"PATH=/bin"}) || img.WorkingDir != "/etc" || img.User != "1000" || img.Labels["role"] != "test" {
		t.Errorf("config %+v", img)
	}
}

// TestDockerArchive reads the test image from a `docker save` archive, as
// Get does after exporting it from the engine.
func TestDockerArchive(t *testing.T) {
	img, randomFiles := testImage(t)
	path := filepath.Join(t.TempDir(), "image.tar")
	tag, err := name.NewTag("netlab/test:latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var diffIDs []string
	for _, d := range cf.RootFS.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	key, err := chainID(diffIDs)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(t.TempDir())
	fill := func(ctx context.Context, _, root string) error {
		img, err := readSaved(path, id.String())
		if err != nil {
			return err
		}
		return unpackImage(ctx, img, root)
	}
	dir, unpacked, err := c.ensure(context.Background(), key, fill)
	if err != nil {
		t.Fatal(err)
	}
	if !unpacked || dir != filepath.Join(c.Dir(), strings.TrimPrefix(key, "sha256:")) {
		t.Errorf("ensure = %s, %v; want %s, unpacked", dir, unpacked, key)
	}
	checkTree(t, dir, randomFiles)
	again, unpacked, err := c.ensure(context.Background(), key, func(context.Context, string, string) error {
		t.Error("second ensure unpacks the image again")
		return errors.New("unpacked again")
	})
	if err != nil || unpacked || again != dir {
		t.Errorf("second ensure = %s, %v, %v; want %s from the cache", again, unpacked, err, dir)
	}
	if _, err := readSaved(path, "sha256:"+strings.Repeat("0", 64)); err == nil {
		t.Error("readSaved accepts an archive of another image")
	}
}

// ociLayout writes img into a new OCI layout tagged tag.
func ociLayout(t *testing.T, img v1.Image, tag string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationRefName: tag})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOCILayout(t *testing.T) {
	ctx := context.Background()
	img, randomFiles := testImage(t)
	dir := ociLayout(t, img, "v1")
	c := NewCache(t.TempDir())
	got, err := c.Get(ctx, "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Unpacked {
		t.Error("first Get did not unpack")
	}
	checkConfig(t, got, img)
	checkTree(t, got.Dir, randomFiles)
	tagged, err := c.Get(ctx, "oci:"+dir+":v1")
	if err != nil {
		t.Fatal(err)
	}
	if tagged.Unpacked || tagged.Dir != got.Dir {
		t.Errorf("Get by tag: %s unpacked=%v, want %s from the cache", tagged.Dir, tagged.Unpacked, got.Dir)
	}
	if _, err := c.Get(ctx, "oci:"+dir+":v2"); err == nil || !strings.Contains(err.Error(), `no manifest tagged "v2" (tags: v1)`) {
		t.Errorf("Get of a missing tag: %v", err)
	}
	// A second image: the layout's index now needs a tag.
	other, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := layout.Path(dir).AppendImage(other, layout.WithAnnotations(map[string]string{annotationRefName: "v2"})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "oci:"+dir); err == nil || !strings.Contains(err.Error(), "name one with oci:") {
		t.Errorf("Get of a layout with two images and no tag: %v", err)
	}
	v2, err := c.Get(ctx, "oci:"+dir+":v2")
	if err != nil {
		t.Fatal(err)
	}
	if !v2.Unpacked || v2.Dir == got.Dir {
		t.Errorf("Get of v2: %s unpacked=%v, want a new entry", v2.Dir, v2.Unpacked)
	}
	if _, err := c.Get(ctx, "oci:"+t.TempDir()); err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Errorf("Get of an empty directory: %v", err)
	}
}

// TestSharedLayers: images that differ only in configuration (fopnp/www
// and fopnp/dns) share one entry; another layer on top makes a new one.
func TestSharedLayers(t *testing.T) {
	ctx := context.Background()
	img, randomFiles := testImage(t)
	other, err := mutate.Config(img, v1.Config{Cmd: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	more, err := mutate.AppendLayers(img, layer(t, []ent{{name: "etc/more", body: "more"}}))
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(t.TempDir())
	a, err := c.Get(ctx, "oci:"+ociLayout(t, img, "a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Get(ctx, "oci:"+ociLayout(t, other, "b"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.RootfsID != b.RootfsID || a.Dir != b.Dir || b.Unpacked || !slices.Equal(b.Cmd, []string{"other"}) {
		t.Errorf("other config: ID %s RootfsID %s Dir %s unpacked=%v Cmd %q; want a new ID, a's rootfs (%s) and its own Cmd", b.ID, b.RootfsID, b.Dir, b.Unpacked, b.Cmd, a.RootfsID)
	}
	m, err := c.Get(ctx, "oci:"+ociLayout(t, more, "m"))
	if err != nil {
		t.Fatal(err)
	}
	if m.RootfsID == a.RootfsID || !m.Unpacked {
		t.Errorf("one more layer: RootfsID %s unpacked=%v, want a new entry", m.RootfsID, m.Unpacked)
	}
	checkTree(t, m.Dir, randomFiles)
	if got, err := os.ReadFile(filepath.Join(m.Dir, "etc/more")); err != nil || string(got) != "more" {
		t.Errorf("etc/more = %q, %v", got, err)
	}
}

func TestChainID(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	b := "sha256:" + strings.Repeat("b", 64)
	sum := sha256.Sum256([]byte(a + " " + b))
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{a}, a},
		{[]string{a, b}, "sha256:" + hex.EncodeToString(sum[:])},
		{nil, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	} {
		if got, err := chainID(tc.in); err != nil || got != tc.want {
			t.Errorf("chainID(%v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := chainID([]string{"sha256:../../x"}); err == nil {
		t.Error("chainID accepts a diff ID that is no digest")
	}
}

// TestConcurrentGet: nodes start 8 at a time; one of them unpacks.
func TestConcurrentGet(t *testing.T) {
	img, randomFiles := testImage(t)
	dir := ociLayout(t, img, "v1")
	c := NewCache(t.TempDir())
	var wg sync.WaitGroup
	imgs := make([]*Image, 8)
	errs := make([]error, 8)
	for i := range imgs {
		wg.Go(func() {
			// A Cache each, as separate processes would have.
			imgs[i], errs[i] = NewCache(c.Dir()).Get(context.Background(), "oci:"+dir)
		})
	}
	wg.Wait()
	unpacked := 0
	for i, got := range imgs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got.Unpacked {
			unpacked++
		}
		if got.Dir != imgs[0].Dir {
			t.Errorf("Get %d: %s, want %s", i, got.Dir, imgs[0].Dir)
		}
	}
	if unpacked != 1 {
		t.Errorf("%d Gets unpacked the image, want 1", unpacked)
	}
	checkTree(t, imgs[0].Dir, randomFiles)
	des, err := os.ReadDir(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			t.Errorf("leftover %s in the cache", de.Name())
		}
	}
}

func TestRemovePrune(t *testing.T) {
	ctx := context.Background()
	img, _ := testImage(t)
	other, err := random.Image(64, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(t.TempDir())
	a, err := c.Get(ctx, "oci:"+ociLayout(t, img, "a"))
	if err != nil {
		t.Fatal(err)
	}
	bref := "oci:" + ociLayout(t, other, "b")
	b, err := c.Get(ctx, bref)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a.RootfsID, b.RootfsID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("Entries = %v, want %v", ids, want)
	}
	// An interrupted unpack's leftovers.
	stale := filepath.Join(c.Dir(), tmpPrefix+strings.Repeat("a", 64)+"-123")
	if err := os.MkdirAll(filepath.Join(stale, "root", "ro"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(stale, "root", "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	removed, err := c.Prune(ctx, a.RootfsID)
	if err != nil || !slices.Equal(removed, []string{b.RootfsID}) {
		t.Errorf("Prune = %v, %v; want [%s]", removed, err, b.RootfsID)
	}
	for _, p := range []string{b.Dir, stale} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Prune: %v", p, err)
		}
	}
	if err := c.Remove(ctx, a.RootfsID); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(ctx, a.RootfsID); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	if ids, err := c.Entries(); err != nil || len(ids) != 0 {
		t.Errorf("Entries after Remove = %v, %v", ids, err)
	}
	if des, err := os.ReadDir(c.Dir()); err != nil || len(des) != 0 {
		t.Errorf("cache after Prune and Remove holds %v, %v; want nothing", des, err)
	}
	again, err := c.Get(ctx, bref)
	if err != nil || !again.Unpacked {
		t.Errorf("Get after Prune: %v, unpacked=%v; want it unpacked again", err, again != nil && again.Unpacked)
	}
}

func TestPlainRootfs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := NewCache(t.TempDir())
	img, err := c.Get(ctx, "rootfs:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if img.Dir != dir || !strings.HasPrefix(img.ID, "sha256:") || img.Unpacked || len(img.Cmd) != 0 {
		t.Errorf("Get rootfs: = %+v", img)
	}
	same, err := c.Get(ctx, "rootfs:"+dir+"/.")
	if err != nil || same.ID != img.ID {
		t.Errorf("same directory, other spelling: %v, %v", same, err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"rootfs:" + file, "rootfs:" + filepath.Join(dir, "missing"), "rootfs:", ""} {
		if _, err := c.Get(ctx, ref); err == nil {
			t.Errorf("Get(%q) succeeds", ref)
		}
	}
	if des, _ := os.ReadDir(c.Dir()); len(des) != 0 {
		t.Errorf("rootfs: wrote into the cache: %v", des)
	}
}

// TestUnpackSafety: no entry writes outside the root, through "..", a
// symlink (absolute or relative) or a hard link.
func TestUnpackSafety(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ents    []ent
		wantErr string
	}{
		{"dotdot", []ent{{name: "../escaped", body: "x"}}, "leaves the root"},
		{"dotdot inside", []ent{{name: "a/../../escaped", body: "x"}}, "leaves the root"},
		{"hard link out", []ent{{name: "h", typ: tar.TypeLink, link: "../outside/target"}}, "leaves the root"},
		{"hard link to missing", []ent{{name: "h", typ: tar.TypeLink, link: "nothing"}}, "is not in the image"},
		{"whiteout of the parent", []ent{{name: "a/", typ: tar.TypeDir}, {name: "a/.wh.."}}, "whiteout names no file"},
		{"through absolute symlink", []ent{{name: "l", typ: tar.TypeSymlink, link: "OUTSIDE"}, {name: "l/escaped", body: "x"}}, ""},
		{"through relative symlink", []ent{{name: "l", typ: tar.TypeSymlink, link: "../outside"}, {name: "l/escaped", body: "x"}, {name: "l/d/", typ: tar.TypeDir}}, ""},
		{"through file", []ent{{name: "f", body: "x"}, {name: "f/escaped", body: "x"}}, ""},
		{"replace symlink", []ent{{name: "l", typ: tar.TypeSymlink, link: "OUTSIDE"}, {name: "l", body: "x"}, {name: "l/escaped", body: "x"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "target"), []byte("host file"), 0o644); err != nil {
				t.Fatal(err)
			}
			for i := range tc.ents {
				tc.ents[i].link = strings.ReplaceAll(tc.ents[i].link, "OUTSIDE", outside)
			}
			err := unpack(context.Background(), tar.NewReader(bytes.NewReader(layerTar(t, tc.ents))), filepath.Join(base, "root"))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("unpack: %v, want error %q", err, tc.wantErr)
			}
			des, err := os.ReadDir(outside)
			if err != nil || len(des) != 1 {
				t.Errorf("outside holds %v, %v; want only target", des, err)
			}
			if _, err := os.Lstat(filepath.Join(base, "escaped")); err == nil {
				t.Error("an entry escaped the root")
			}
		})
	}
}

// TestOCIIndex: a tag naming an image index (a multi-platform image) gets
// this machine's platform.
func TestOCIIndex(t *testing.T) {
	img, randomFiles := testImage(t)
	foreign, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationRefName: "multi"})); err != nil {
		t.Fatal(err)
	}
	got, err := NewCache(t.TempDir()).Get(context.Background(), "oci:"+dir+":multi")
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, got, img)
	checkTree(t, got.Dir, randomFiles)
}

// TestLayerSemantics: layers apply bottom first, as Docker applies them:
// a hard link keeps its file when an upper layer removes or replaces the
// target's name (go-containerregistry's mutate.Extract loses it there:
// its issues 977 and 2002), whiteouts remove whole directories, an opaque
// marker keeps what its own layer put in the directory wherever it comes,
// and a file and a directory replace each other.
func TestLayerSemantics(t *testing.T) {
	l1 := layer(t, []ent{
		{name: "a", body: "old"},
		{name: "b", typ: tar.TypeLink, link: "a"},
		{name: "t1", body: "123"},
		{name: "t2", typ: tar.TypeLink, link: "t1"},
		{name: "d/", typ: tar.TypeDir},
		{name: "d/x", body: "x"},
		{name: "e", body: "e"},
		{name: "s/", typ: tar.TypeDir},
		{name: "s/y", body: "y"},
		{name: "o/", typ: tar.TypeDir},
		{name: "o/old", body: "old"},
		{name: "o/sub/", typ: tar.TypeDir},
		{name: "o/sub/old", body: "old"},
	})
	l2 := layer(t, []ent{
		{name: ".wh.a"},
		{name: "t1", body: "456"},
		{name: ".wh.d"},
		{name: "e/", typ: tar.TypeDir},
		{name: "e/z", body: "z"},
		{name: "s", body: "s"},
		{name: "o/", typ: tar.TypeDir},
		{name: "o/sub/", typ: tar.TypeDir},
		{name: "o/sub/new", body: "new"},
		{name: "o/.wh..wh..opq"},
	})
	img, err := mutate.AppendLayers(empty.Image, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	if err := unpackImage(context.Background(), img, root); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"b": "old", "t1": "456", "t2": "123", "e/z": "z", "s": "s", "o/sub/new": "new"} {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"a", "d", "s/y", "o/old", "o/sub/old"} {
		if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("%s: %v, want it gone", p, err)
		}
	}
	if fi, err := os.Lstat(filepath.Join(root, "e")); err != nil || !fi.IsDir() {
		t.Errorf("e: %v, %v; want a directory", fi, err)
	}
}

// TestHeldEntry: an entry another Cache holds (an up that has yet to
// start its nodes) is neither removed nor pruned until that Cache lets
// go of it; Hold of an entry removed meanwhile says it is gone.
func TestHeldEntry(t *testing.T) {
	ctx := context.Background()
	img, _ := testImage(t)
	dir := t.TempDir()
	up, down := NewCache(dir), NewCache(dir)
	ref := "oci:" + ociLayout(t, img, "a")
	got, err := up.Get(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := up.Hold(ctx, got.RootfsID); err != nil {
			t.Fatal(err)
		}
	}
	if err := down.Remove(ctx, got.RootfsID); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove of an entry another Cache holds: %v, want ErrInUse", err)
	}
	if removed, err := down.Prune(ctx); err != nil || len(removed) != 0 {
		t.Errorf("Prune with an entry another Cache holds: removed %v, %v", removed, err)
	}
	up.Unhold(got.RootfsID)
	if err := down.Remove(ctx, got.RootfsID); !errors.Is(err, ErrInUse) || !isDir(got.Dir) {
		t.Errorf("Remove of an entry held twice and let go once: %v", err)
	}
	up.Unhold(got.RootfsID)
	if err := down.Remove(ctx, got.RootfsID); err != nil || isDir(got.Dir) {
		t.Errorf("Remove after the last Unhold: %v (still there: %v)", err, isDir(got.Dir))
	}
	if err := up.Hold(ctx, got.RootfsID); !errors.Is(err, ErrGone) {
		t.Errorf("Hold of a removed entry: %v, want ErrGone", err)
	}
	again, err := up.Get(ctx, ref)
	if err != nil || !again.Unpacked {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := up.Hold(ctx, again.RootfsID); err != nil {
		t.Fatal(err)
	}
	up.Close()
	if err := down.Remove(ctx, again.RootfsID); err != nil {
		t.Errorf("Remove after the holder closed: %v", err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("the cache holds %d files after removing everything", len(des))
	}
}
