package tests

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogsKeepStreamsApart: netlab logs gives a node's standard output on
// its standard output and the node's errors on its standard error, on
// either runtime, with and without -f (-f also what comes later).
func TestLogsKeepStreamsApart(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes:
  a:
    command: echo out-early; echo err-early >&2; sleep 2; echo out-late; echo err-late >&2; exec sleep 600
`)
	follow := exec.Command(netlabBin, "logs", "-f", l.name, "a")
	var fout, ferr bytes.Buffer
	follow.Stdout, follow.Stderr = &fout, &ferr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	follow.Process.Signal(syscall.SIGINT)
	follow.Wait()
	r := netlab(t, "logs", l.name, "a")
	if r.code != 0 {
		t.Fatalf("netlab logs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ what, out, err string }{{"logs", r.stdout, r.stderr}, {"logs -f", fout.String(), ferr.String()}} {
		for _, when := range []string{"early", "late"} {
			if !strings.Contains(c.out, "out-"+when) || strings.Contains(c.out, "err-"+when) {
				t.Errorf("netlab %s: standard output %q, want out-%s and no err-%s", c.what, c.out, when, when)
			}
			if !strings.Contains(c.err, "err-"+when) || strings.Contains(c.err, "out-"+when) {
				t.Errorf("netlab %s: standard error %q, want err-%s and no out-%s", c.what, c.err, when, when)
			}
		}
	}
	// The last line: Docker's of both streams, runc's of each.
	r = netlab(t, "logs", "--tail", "1", l.name, "a")
	if all := r.stdout + r.stderr; strings.Contains(all, "early") || !strings.Contains(all, "-late") {
		t.Errorf("netlab logs --tail 1: output %q, errors %q", r.stdout, r.stderr)
	}
}
