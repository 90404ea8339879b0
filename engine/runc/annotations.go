package runc

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// annotations are the labels List reads from the nodes' config.json files,
// kept by file: a page open on a lab lists it twice a second and every up
// lists every lab's nodes, and reading and decoding each node's whole
// configuration (9 KB) each time was most of what listing cost (perf of
// a class of 30 labs). A file is read again when it is another (netlab
// writes it beside and renames it over: a new inode) or changed in place
// (size, modification or change time).
type annotations struct {
	mu    sync.Mutex
	files map[string]annotated // by config.json path
}

type annotated struct {
	id   fileID
	anns map[string]string // not to be changed: shared by every reader
}

// fileID tells one version of a file from another.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, true
}

// get returns the annotations of the config.json at path: what was read
// of that version of it before, or read now.
func (a *annotations) get(path string) (map[string]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	id, ok := idOf(fi)
	if ok {
		a.mu.Lock()
		e, hit := a.files[path]
		a.mu.Unlock()
		if hit && e.id == id {
			return e.anns, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The annotations only: not the node's whole config.
	var cfg struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, err
	}
	if ok {
		// Stat before the read: a change between the two is read again
		// next time, as its identity then differs.
		a.mu.Lock()
		if a.files == nil {
			a.files = map[string]annotated{}
		}
		a.files[path] = annotated{id: id, anns: cfg.Annotations}
		a.mu.Unlock()
	}
	return cfg.Annotations, nil
}

// forget drops what is kept of the files under dirs (every file when
// dirs is nil) that are not in seen: the nodes removed since.
func (a *annotations) forget(dirs []string, seen map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range a.files {
		if !seen[p] && (dirs == nil || slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(p, d+"/") })) {
			delete(a.files, p)
		}
	}
}
