package runc

import (
	"testing"

	"github.com/netlab/netlab/planner"
)

func TestResources(t *testing.T) {
	r := resources(&planner.Resources{MilliCPUs: 500, Memory: 64 << 20, Pids: 32})
	if r.CPU == nil || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 {
		t.Errorf("cpu %+v, want a quota of 50000 over 100000", r.CPU)
	}
	if r.Memory == nil || *r.Memory.Limit != 64<<20 || (r.Memory.Swap != nil && *r.Memory.Swap != 64<<20) {
		t.Errorf("memory %+v, want 64 MiB with swap held to it", r.Memory)
	}
	if r.Pids == nil || r.Pids.Limit != 32 {
		t.Errorf("pids %+v, want 32", r.Pids)
	}
	if none := resources(nil); none.CPU != nil || none.Memory != nil || none.Pids != nil || len(none.Devices) != 1 {
		t.Errorf("no limits: %+v", none)
	}
}
