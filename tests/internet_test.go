package tests

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/naming"
)

// TestGeneratedInternet: netlab new internet writes a class-wide Internet
// of 4 ASes and an IXP, which comes up, converges (iBGP, eBGP between
// peers, the IXP's route server) and passes its own checks: hosts of
// different ASes reach each other; and again after its IXP's switch was
// deleted and a router killed, which the watcher brings back.
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
	established := `(?m)^180\.80\.0\.80\s.*\d\d:\d\d:\d\d\s+\d+\s`
	l.waitOutput("as1-zuri", 90*time.Second, established, "vtysh", "-c", "show bgp summary")

	// Resilience: the IXP's switch pulled out from under the lab and a
	// router killed come back by themselves (the watcher), and the
	// Internet converges again.
	if out, err := exec.Command("ip", "link", "del", naming.Bridge(l.name, "ixp80")).CombinedOutput(); err != nil {
		t.Fatalf("delete the IXP's bridge: %v %s", err, out)
	}
	l.restart("as1-zuri")
	l.waitOutput("as1-zuri", 120*time.Second, established, "vtysh", "-c", "show bgp summary")
	l.passChecks()
}
