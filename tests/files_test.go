package tests

import (
	"os"
	"strings"
	"testing"
)

// The files netlab writes into a node (FRR's configuration from the lab
// file) are in place when its command starts, and the node's own edits to
// them stay when the node restarts, as a machine keeps its files across a
// reboot; a node made again (its configuration changed) gets the lab's.
func TestNodeFilesKeepEditsAcrossRestart(t *testing.T) {
	parallel(t)
	needImages(t, "netlab/router")
	body := `networks: {lan: {subnet: 10.64.0.0/24}}
nodes:
  r1:
    image: netlab/router
    forward: true
    interfaces: {eth0: {network: lan, address: 10.64.0.1/24}}
    routing: {router_id: 1.1.1.1, ospf: {area: 0, interfaces: [eth0]}}
`
	l := up(t, body)
	if out := mustExec(t, l, "r1", "cat", "/etc/frr/frr.conf"); !strings.Contains(out, "router ospf") {
		t.Fatalf("r1's frr.conf is not the lab's:\n%s", out)
	}
	mustExec(t, l, "r1", "sh", "-c", "echo '! edited in the node' >> /etc/frr/frr.conf")
	if r := netlab(t, "restart", l.name, "r1"); r.code != 0 {
		t.Fatalf("netlab restart: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := mustExec(t, l, "r1", "cat", "/etc/frr/frr.conf"); !strings.Contains(out, "! edited in the node") {
		t.Errorf("r1's edit of frr.conf is gone after a restart:\n%s", out)
	}
	// Another router id: the node is made again, with the lab's file.
	if err := os.WriteFile(l.file, []byte("name: "+l.name+"\n"+strings.Replace(body, "1.1.1.1", "1.1.1.2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := mustExec(t, l, "r1", "cat", "/etc/frr/frr.conf"); strings.Contains(out, "! edited in the node") || !strings.Contains(out, "1.1.1.2") {
		t.Errorf("r1 made again does not have the lab's frr.conf:\n%s", out)
	}
}
