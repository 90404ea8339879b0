package tests

import (
	"strings"
	"testing"
	"time"
)

// TestGeneratedInternet: netlab new internet writes a class-wide Internet
// of 4 ASes and an IXP, which comes up, converges (iBGP, eBGP between
// peers, the IXP's route server) and passes its own checks: hosts of
// different ASes reach each other.
func TestGeneratedInternet(t *testing.T) {
	parallel(t)
	r := netlabRaw(t, "new", "internet", "--ases", "4", "--ixps", "1", "--name", "x")
	if r.code != 0 {
		t.Fatalf("netlab new internet: exit %d\n%s", r.code, r.stderr)
	}
	body := strings.Replace(r.stdout, "\nname: x\n", "\n", 1)
	if body == r.stdout {
		t.Fatalf("no name line in the generated lab:\n%s", r.stdout)
	}
	l := upWith(t, body, nil)
	l.passChecks()
	// The tier-1 router has its peers: its iBGP neighbour, another AS, the
	// IXP's route server, every session established with prefixes.
	l.waitOutput("as1-zuri", 90*time.Second, `(?m)^180\.80\.0\.80\s.*\d\d:\d\d:\d\d\s+\d+\s`, "vtysh", "-c", "show bgp summary")
}
