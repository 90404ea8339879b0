package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// What a lab and its nodes are called in the cluster. A lab's and a
// node's names are letters, digits and dashes (spec), which Kubernetes'
// names take only in lower case: a name with capitals gets a short hash of
// itself, so that "modemA" and "modema" stay apart. The names as the lab
// file gives them are the objects' labels.

// nsPrefix begins every lab's namespace.
const nsPrefix = "netlab-"

// Namespace is the lab's namespace: "netlab-" and the lab's name (a lab
// called "system" gets the hash, to stay out of AgentNamespace).
func Namespace(lab string) string {
	if nsPrefix+lab == AgentNamespace {
		return nsPrefix + hashedLabel(lab, 63-len(nsPrefix))
	}
	return nsPrefix + dnsLabel(lab, 63-len(nsPrefix))
}

// PodName is the node's pod in its lab's namespace.
func PodName(node string) string { return dnsLabel(node, 63) }

// dnsLabel is s in lower case, at most max characters: s itself when it
// is lower case and short enough, else a prefix of it, a dash and 8 hex
// digits of its hash.
func dnsLabel(s string, max int) string {
	if strings.ToLower(s) == s && len(s) <= max {
		return s
	}
	return hashedLabel(s, max)
}

// hashedLabel is s in lower case, cut so that a dash and 8 hex digits of
// its hash follow within max characters.
func hashedLabel(s string, max int) string {
	low := strings.ToLower(s)
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:4])
	keep := min(len(low), max-len(h)-1)
	return strings.TrimRight(low[:keep], "-") + "-" + h
}

// A node's id is its container's name, as on the other runtimes
// (naming.Container: "LAB_NODE"), which the commands that reach a node by
// its name use.

// splitID returns the namespace and pod of a node's id.
func splitID(id string) (namespace, pod string, err error) {
	lab, node, ok := strings.Cut(id, "_")
	if !ok || lab == "" || node == "" {
		return "", "", fmt.Errorf("kubernetes node id %q: want LAB_NODE", id)
	}
	return Namespace(lab), PodName(node), nil
}

// IsContainerPid tells whether process pid is still the first process of
// the container with that CRI id (a pid found before may be reused).
func IsContainerPid(pid int, criID string) bool {
	_, id, ok := strings.Cut(criID, "://")
	if !ok || len(id) < 12 {
		return false
	}
	got, ok := firstOf(fmt.Sprintf("/proc/%d", pid), id)
	return ok && got == pid
}

// firstOf tells whether the process of /proc directory dir is the first
// process (PID 1 in its namespace) of the container id, and its pid.
func firstOf(dir, id string) (int, bool) {
	cg, err := os.ReadFile(filepath.Join(dir, "cgroup"))
	if err != nil || !strings.Contains(string(cg), id) {
		return 0, false
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		ns, ok := strings.CutPrefix(line, "NSpid:")
		if !ok {
			continue
		}
		if f := strings.Fields(ns); len(f) > 1 && f[len(f)-1] == "1" {
			var pid int
			fmt.Sscan(f[0], &pid)
			return pid, true
		}
	}
	return 0, false
}
