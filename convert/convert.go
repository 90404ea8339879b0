package convert

import "path/filepath"

// Result is a lab written for another tool, as a netlab lab file.
type Result struct {
	Source string // the file problems name: DIR/lab.conf, or the topology file
	YAML   []byte
	Notes  []Note
}

// Convert reads path with the converter that knows it: a Kathará lab
// folder (lab.conf), a containerlab topology (*.clab.yml) or a
// mini-Internet config directory (AS_config.txt, aslevel_links.txt). ok is
// false when none does.
func Convert(path string) (r Result, ok bool, err error) {
	return ConvertWith(path, Options{})
}

// Options are the converters' choices.
type Options struct {
	// ConfigureAll configures a mini-Internet's NoConfig ASes too: the
	// teacher's reference solution, every pair reachable.
	ConfigureAll bool
}

// ConvertWith is Convert with options.
func ConvertWith(path string, opts Options) (r Result, ok bool, err error) {
	switch {
	case IsKathara(path):
		r.Source = filepath.Join(path, "lab.conf")
		r.YAML, r.Notes, err = Kathara(path)
	case IsMiniInternet(path):
		r.Source = filepath.Join(path, "AS_config.txt")
		r.YAML, r.Notes, err = MiniInternetWith(path, MiniInternetOptions(opts))
	case IsClab(path):
		r.Source = path
		r.YAML, r.Notes, err = Clab(path)
	default:
		return r, false, nil
	}
	return r, true, err
}
