package report

import (
	"fmt"
	"io"

	"github.com/netlab/netlab/hostcheck"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/table"
)

// Doctor writes what this host offers labs: a table of its components
// (Docker, runc, cgroups), then one of the kernel's network features.
func Doctor(w io.Writer, r hostcheck.Report) error {
	t := table.New(w)
	t.Header("Component", "State", "Version", "Enables", "Detail")
	for _, c := range r.Components {
		t.Append(c.Name, either(c.OK, "ok", "missing"), c.Version, Wrap(c.Enables, 40), Wrap(c.Detail, 50))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if r.KernelErr != "" {
		fmt.Fprintf(w, "kernel features: not probed: %s\n", r.KernelErr)
		return nil
	}
	t = table.New(w)
	t.Header("Kernel feature", "State", "Enables", "Without it")
	for _, f := range r.Kernel {
		t.Append(string(f.Feature), either(f.Present, "present", "absent"), Wrap(f.Enables, 45), Wrap(f.Without, 45))
	}
	return t.Render()
}

func either(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// Prune writes what a prune removed (or would remove) and the space it
// freed; what it did not look at, and why, goes to stderr.
func Prune(stdout, stderr io.Writer, res *lab.PruneResult) error {
	if len(res.Removed) > 0 {
		t := table.New(stdout)
		t.Header("What", "Directory", "Size")
		for _, p := range res.Removed {
			t.Append(p.Kind, p.Dir, Bytes(p.Bytes))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	verb := "freed"
	if res.DryRun {
		verb = "would free"
	}
	fmt.Fprintf(stdout, "%s %s (%d directories)\n", verb, Bytes(res.Freed), len(res.Removed))
	for _, s := range res.Skipped {
		fmt.Fprintln(stderr, "not looked at: "+s)
	}
	return nil
}

// Bytes writes a size as du -h does, in powers of 1024.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Restore writes each lab's restore: what its up did, or why it failed
// (on stderr).
func Restore(stdout, stderr io.Writer, out []lab.Restored) {
	for _, r := range out {
		switch {
		case r.Error != "":
			fmt.Fprintf(stderr, "lab %s: not restored: %s\n", r.Lab, r.Error)
		case r.Result != nil:
			fmt.Fprintf(stdout, "lab %s restored from %s: %d steps changed, %d unchanged in %s\n", r.Lab, r.File, r.Result.Changed, r.Result.Unchanged, r.Result.Took)
		}
	}
}
