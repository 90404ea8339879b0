package docker

import (
	"runtime"

	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/planner"
)

// resources are a node's cgroup limits as Docker takes them: CPU time in
// billionths of a CPU (no more than the machine has: Docker refuses a
// limit above it, where runc's quota simply never binds), memory with
// swap held to the same amount, and the pids limit.
func resources(r *planner.Resources) dockerapi.Resources {
	if r == nil {
		return dockerapi.Resources{}
	}
	out := dockerapi.Resources{NanoCPUs: min(r.MilliCPUs, int64(runtime.NumCPU())*1000) * 1e6}
	if r.Memory > 0 {
		out.Memory, out.MemorySwap = r.Memory, r.Memory
	}
	if r.Pids > 0 {
		out.PidsLimit = &r.Pids
	}
	return out
}
