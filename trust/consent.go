package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/netlab/netlab/labs"
	"github.com/netlab/netlab/spec"
)

// DefaultStore is where `netlab trust FILE` records trusted labs: one file
// per content hash, written by root.
const DefaultStore = "/var/lib/netlab/trust"

// Options are how a person has allowed a lab's requests.
type Options struct {
	// AllowHost allows every request for this run (netlab up --allow-host).
	AllowHost bool
	// Store is the directory of trust records (DefaultStore if "").
	Store string
}

// Digest is the content hash that trust records name a lab by: SHA-256
// over the lab file's bytes as loaded (data: for a Kathará or containerlab
// lab, the converted YAML), then each file the lab reads, by its path as
// written and its bytes: the .env beside the lab file, every node's
// config.frr and every check's signature. Editing any of them changes the
// digest, and so revokes the trust. Files the nodes mount are not read:
// what they hold stays inside the nodes.
func Digest(lab *spec.Lab, data []byte) (string, error) {
	h := sha256.New()
	part := func(name string, b []byte) {
		fmt.Fprintf(h, "%d:%s\n%d:", len(name), name, len(b))
		h.Write(b)
	}
	part("lab", data)
	dir := LabDir(lab)
	if b, err := spec.ReadLabFile(dir, ".env", spec.MaxDotEnvBytes); err == nil {
		part(".env", b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("hash the lab's .env: %w", err)
	}
	var refs []string
	for _, n := range lab.SortedNodes() {
		if n.Config != nil && n.Config.FRR != "" {
			refs = append(refs, n.Config.FRR)
		}
	}
	for _, ch := range lab.Checks {
		if ch.Signature != "" {
			refs = append(refs, ch.Signature)
		}
	}
	for _, ref := range refs {
		b, err := spec.ReadLabFile(dir, ref, spec.MaxSignatureBytes)
		if err != nil {
			return "", fmt.Errorf("hash %s, which the lab reads: %w", ref, err)
		}
		part(ref, b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// record is a trust record: the file trusted, and the requests it made
// when a person trusted it. Requests it did not make then (the same bytes
// read with other variables, say) are not allowed by it.
type record struct {
	File     string   `json:"file"`
	Requests []string `json:"requests"`
}

// Record writes a trust record for the lab as it is now: what `netlab
// trust FILE` does. data is the lab file's bytes as loaded.
func Record(lab *spec.Lab, data []byte, store string) (string, error) {
	digest, err := Digest(lab, data)
	if err != nil {
		return "", err
	}
	rec := record{File: lab.File}
	for _, r := range Requests(lab) {
		rec.Requests = append(rec.Requests, r.key())
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	store = storeDir(store)
	if err := os.MkdirAll(store, 0o755); err != nil {
		return "", fmt.Errorf("trust store: %w", err)
	}
	file := filepath.Join(store, digest)
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("trust store: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return "", fmt.Errorf("trust store: %w", err)
	}
	return digest, nil
}

func storeDir(s string) string {
	if s == "" {
		return DefaultStore
	}
	return s
}

// Bundled tells whether data is, byte for byte, one of netlab's own labs
// (the labs package), which are trusted as they are.
func Bundled(data []byte) (string, bool) {
	for _, l := range labs.List() {
		if b, err := labs.Content(l.Name); err == nil && string(b) == string(data) {
			return l.Name, true
		}
	}
	return "", false
}

// Allowed decides whether the lab may have what it requests (reqs, from
// Requests): yes if it requests nothing, if it is a bundled lab unchanged,
// if opts allow the host for this run, or if a trust record for its digest
// lists every request. Otherwise the error is a *Refused, which says what
// the lab asks and how to allow it. data is the lab file's bytes as
// loaded.
func Allowed(lab *spec.Lab, data []byte, reqs []Request, opts Options) error {
	if len(reqs) == 0 || opts.AllowHost {
		return nil
	}
	if _, ok := Bundled(data); ok {
		return nil
	}
	refused := &Refused{File: lab.File, Requests: reqs}
	digest, err := Digest(lab, data)
	if err != nil {
		refused.Why = err.Error()
		return refused
	}
	rec, err := readRecord(filepath.Join(storeDir(opts.Store), digest))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return refused
	case err != nil:
		refused.Why = err.Error()
		return refused
	}
	var missing []Request
	for _, r := range reqs {
		if !slices.Contains(rec.Requests, r.key()) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	refused.Requests = missing
	refused.Why = "the file was trusted, but asks for more now (its variables changed?)"
	return refused
}

// readRecord reads a trust record, only if root or this user wrote it and
// no one else can change it.
func readRecord(file string) (record, error) {
	var rec record
	st, err := os.Lstat(file)
	if err != nil {
		return rec, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.Mode().IsRegular() || !ok || (sys.Uid != 0 && int(sys.Uid) != os.Geteuid()) || st.Mode().Perm()&0o022 != 0 {
		return rec, fmt.Errorf("trust record %s is not a regular file that only root (or you) can write: ignored", file)
	}
	b, err := spec.ReadLabFile(filepath.Dir(file), filepath.Base(file), 1<<20)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("trust record %s: %w", file, err)
	}
	return rec, nil
}

// Refused is the error for a lab whose requests no one has allowed: it
// lists them, each at its place in the file, and says how to allow them.
type Refused struct {
	File     string
	Requests []Request
	Why      string // more about the refusal, or ""
}

func (e *Refused) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lab %s reaches past its lab into this machine, and no one has allowed it:\n", e.File)
	for _, r := range e.Requests {
		fmt.Fprintf(&b, "  %s\n", r)
	}
	if e.Why != "" {
		fmt.Fprintf(&b, "(%s)\n", e.Why)
	}
	fmt.Fprintf(&b, "If you trust this file: netlab up --allow-host %s (this run only),\n", e.File)
	fmt.Fprintf(&b, "or netlab trust %s (until the file changes).", e.File)
	return b.String()
}
