package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/hostcheck"
)

// TestUpWarnsOfMissingKernelFeatures: a node whose command makes links of
// kinds this kernel may lack gets, before up wires anything, a warning
// naming each kind the kernel lacks and none it has; and what the node
// then makes agrees with the warning. Which kinds are missing is the
// probe's answer on whatever host runs the test, not a list in the test.
func TestUpWarnsOfMissingKernelFeatures(t *testing.T) {
	parallel(t)
	k, err := hostcheck.Probe()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[hostcheck.Feature]string{hostcheck.Dummy: "dummy", hostcheck.IPIP: "ipip", hostcheck.Bonding: "bond", hostcheck.IFB: "ifb"}
	features := []hostcheck.Feature{hostcheck.Dummy, hostcheck.IPIP, hostcheck.Bonding, hostcheck.IFB}
	var cmd []string
	for i, f := range features {
		cmd = append(cmd, fmt.Sprintf("ip link add k%d type %s", i, kinds[f]))
	}
	l := &lab{t: t, name: labName(t)}
	l.file = writeLab(t, l.name, "defaults: {image: netlab/tiny}\nnodes:\n  a:\n    command: "+strings.Join(cmd, "; ")+"; exec sleep 600\n")
	t.Cleanup(l.down)
	r := netlab(t, "up", l.file)
	if r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i, f := range features {
		warned := strings.Contains(r.stderr, "no "+string(f)+" (lab file: nodes.a.command: ip link add k")
		if warned == k.Has(f) {
			t.Errorf("%s: present=%v, warned=%v; up said:\n%s", f, k.Has(f), warned, r.stderr)
		}
		if !k.Has(f) && !strings.Contains(r.stderr, "node a: this kernel has") {
			t.Errorf("the warning does not name node a:\n%s", r.stderr)
		}
		// The node's own try agrees with the probe (its command ran).
		out, code := waitExec(l, "a", fmt.Sprintf("k%d", i))
		if (code == 0) != k.Has(f) {
			t.Errorf("%s: present=%v, but in node a: ip link show k%d: exit %d %s", f, k.Has(f), i, code, out)
		}
	}
}

// waitExec shows a link of a node, giving its command a second to make it.
func waitExec(l *lab, node, link string) (string, int) {
	var out string
	var code int
	for deadline := time.Now().Add(time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, code = l.exec(node, "ip", "link", "show", link)
		if code == 0 || time.Now().After(deadline) {
			return out, code
		}
	}
}

// TestDoctor: netlab doctor --json reports the components and every
// kernel feature, each as the probe finds it.
func TestDoctor(t *testing.T) {
	parallel(t)
	r := netlabRaw(t, "doctor", "--json")
	if r.code != 0 {
		t.Fatalf("netlab doctor --json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep hostcheck.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor's JSON: %v\n%s", err, r.stdout)
	}
	names := map[string]hostcheck.Component{}
	for _, c := range rep.Components {
		names[c.Name] = c
	}
	// The tests run with Docker (prerequisites); runc may be absent.
	if d := names["docker"]; !d.OK || d.Version == "" {
		t.Errorf("docker: %+v", d)
	}
	if c := names["cgroup"]; !c.OK || !strings.HasPrefix(c.Version, "v") {
		t.Errorf("cgroup: %+v", c)
	}
	if _, ok := names["runc"]; !ok {
		t.Error("no runc line")
	}
	// The tests' netlab is the whole one (make build), not the playground's.
	for _, name := range []string{"kubernetes", "serve"} {
		if c := names[name]; !c.OK {
			t.Errorf("%s: %+v", name, c)
		}
	}
	k, err := hostcheck.Probe()
	if err != nil {
		t.Fatal(err)
	}
	if rep.KernelErr != "" || len(rep.Kernel) != len(k) {
		t.Fatalf("kernel: %d features (%s), the probe finds %d", len(rep.Kernel), rep.KernelErr, len(k))
	}
	for i, f := range rep.Kernel {
		if f.Feature != k[i].Feature || f.Present != k[i].Present || f.Enables == "" {
			t.Errorf("doctor says %+v, the probe %+v", f, k[i])
		}
	}
	if r := netlabRaw(t, "doctor"); r.code != 0 || !strings.Contains(r.stdout, "KERNEL FEATURE") {
		t.Errorf("netlab doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
