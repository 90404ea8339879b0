package lab

import (
	"os"

	"github.com/netlab/netlab/hostcheck"
	"github.com/netlab/netlab/spec"
)

// warnKernel tells, one warning per node, what the lab's nodes use (by
// their file, commands and startup scripts) that this kernel lacks, and
// what will not work for it. A kernel that cannot be probed is taken to
// have everything: its own answers decide then.
func warnKernel(l *spec.Lab, progress Progress) {
	if progress == nil {
		return
	}
	k, err := hostcheck.Cached()
	if err != nil {
		return
	}
	for _, w := range hostcheck.Warnings(hostcheck.Missing(hostcheck.Scan(l, os.ReadFile), k)) {
		progress.warn(l.Name, "%s", w)
	}
}
