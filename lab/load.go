package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/netlab/netlab/convert"
	"github.com/netlab/netlab/labs"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/spec"
	"github.com/netlab/netlab/wire"
)

// Load reads a lab: a lab file, a Kathará lab directory or a containerlab
// topology (converted on the way; notes are the converter's remarks on
// options netlab has no meaning for), or a bundled lab by name (netlab
// labs lists them). A missing file is a usage error.
func Load(target string) (l *spec.Lab, notes []convert.Note, err error) {
	return LoadWith(target, convert.Options{})
}

// LoadWith is Load with the converters' options (a mini-Internet's
// --configure-all).
func LoadWith(target string, opts convert.Options) (l *spec.Lab, notes []convert.Note, err error) {
	if r, ok, err := convert.ConvertWith(target, opts); ok {
		if err != nil {
			return nil, r.Notes, usageError{err}
		}
		l, err := spec.Parse(r.YAML, r.Source+" (converted; netlab convert shows it)")
		if err == nil {
			// What up, start and the watcher take again; binds are relative to it.
			l.File, _ = filepath.Abs(target)
		}
		return l, r.Notes, err
	}
	if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) && labs.Has(target) {
		path, err := labs.Path(target)
		if err != nil { // not root: read it from the binary
			data, _ := labs.Content(target)
			l, err := spec.Parse(data, target+".yaml")
			return l, nil, err
		}
		target = path
	}
	l, err = spec.Load(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usagef("lab file %s does not exist", target)
	}
	return l, nil, err
}

// IsPath tells whether target names a lab on disk (a lab file, a
// containerlab topology or a Kathará folder) rather than a running lab.
func IsPath(target string) bool {
	st, err := os.Stat(target)
	return err == nil && (!st.IsDir() || convert.IsKathara(target))
}

// Plan plans a lab for this machine: VLANs are tagged where the kernel
// has 802.1Q devices and bridge VLAN filtering (probed only for labs with
// VLANs, and only as root; otherwise they are one bridge each).
func Plan(l *spec.Lab) (*planner.Plan, error) {
	var opts planner.Options
	if l.UsesVLANs() && os.Geteuid() == 0 {
		opts.TaggedVLANs = wire.KernelHasTaggedVLANs()
	}
	return planner.BuildWith(l, opts)
}

// Convert turns a Kathará lab directory, a containerlab topology or a
// mini-Internet configuration directory into a
// netlab lab file, checks that it validates, and returns it with the
// converter's notes. ok is false when path is neither.
func Convert(path string, opts convert.Options) (data []byte, notes []convert.Note, ok bool, err error) {
	r, ok, err := convert.ConvertWith(path, opts)
	if !ok {
		return nil, nil, false, usagef("%s is neither a Kathará lab (a folder with lab.conf), a containerlab topology (*.clab.yml) nor a mini-Internet configuration (a folder with AS_config.txt)", path)
	}
	if err != nil {
		return nil, r.Notes, true, usageError{err}
	}
	if _, err := spec.Parse(r.YAML, r.Source); err != nil {
		return nil, r.Notes, true, fmt.Errorf("the converted lab does not validate (a netlab bug; please report it): %w", err)
	}
	return r.YAML, r.Notes, true, nil
}
