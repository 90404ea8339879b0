package runc

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/netlab/netlab/planner"
)

// cfsPeriod is the CFS period a node's CPU quota is measured over, in
// microseconds (Docker's too).
const cfsPeriod = 100000

// memswFile is where cgroup v1 keeps the memory-and-swap limit; it is
// missing when the kernel does not account swap (swapaccount=0).
const memswFile = "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"

// resources are the node's cgroup settings for runc: no device but the
// default ones, and the node's limits (as Docker sets them: a CFS quota,
// memory with swap held to the same amount, a pids limit).
func resources(r *planner.Resources) *specs.LinuxResources {
	out := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	if r == nil {
		return out
	}
	if r.MilliCPUs > 0 {
		quota, period := r.MilliCPUs*cfsPeriod/1000, uint64(cfsPeriod)
		out.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if r.Memory > 0 {
		limit := r.Memory
		out.Memory = &specs.LinuxMemory{Limit: &limit}
		if swapAccounted() {
			out.Memory.Swap = &limit // memory and swap together
		}
	}
	if r.Pids > 0 {
		out.Pids = &specs.LinuxPids{Limit: r.Pids}
	}
	return out
}

// swapAccounted tells whether runc can hold swap with memory: always on
// cgroup v2 (runc writes memory.swap.max), on v1 when the kernel accounts
// swap.
func swapAccounted() bool {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return true
	}
	_, err := os.Stat(memswFile)
	return err == nil
}
