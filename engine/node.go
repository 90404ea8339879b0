package engine

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/startgate"
)

// What a node is to every runtime: its records, the paths netlab binds
// into it, the command it runs behind netlab's init, its capabilities and
// its /etc/hosts.

// Paths inside a node's container.
const (
	InitPath  = nodeinit.Path     // netlab-init, which waits for the wiring
	ReadyDir  = nodeinit.ReadyDir // holds "ready" once the node is wired
	ReadyFile = "ready"           // in a node's run directory: its Instance once it is wired
	GatePath  = startgate.NodeDir // the host's start gate, read-only
)

// Node is a node's running container, as the wiring needs it.
type Node struct {
	ID    string
	Pid   int
	NetNS string // Instance: "net:[4026532182] 81234567", changes when the container restarts
	// Remote: the node runs, where this machine does not enter it (a
	// cluster's other host): Pid is 0, and its host's agent wires it
	// (Delegating).
	Remote bool
}

// RemoteError says that what was asked of a node that runs on another
// host of its cluster is not done through its host's agent yet.
func RemoteError(node, what string) error {
	return fmt.Errorf("node %s runs on another host of its cluster, which netlab reaches through its agent, and %s through the agent is not built yet (docs/kubernetes.md)", node, what)
}

// ReadonlyPaths are the paths of /proc a node sees read-only: Docker's
// default list, but with /proc/sys split so that /proc/sys/net, which
// belongs to the node's own network namespace, is writable (sysctl -w
// net.ipv4.ip_forward=1 is a classic exercise) while the host-global
// sysctls (kernel, vm, fs...) stay read-only. Missing paths are skipped by
// the runtime.
var ReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger",
	"/proc/sys/abi", "/proc/sys/crypto", "/proc/sys/debug", "/proc/sys/dev", "/proc/sys/fs",
	"/proc/sys/kernel", "/proc/sys/sunrpc", "/proc/sys/user", "/proc/sys/vm",
}

// NodeArgv is the command the node runs once wired, from the image's
// entrypoint, command and labels, and the capabilities its image declares
// (naming.LabelImageCaps). A single string runs through sh -c.
func NodeArgv(c *planner.Container, entry, cmd []string, labels map[string]string) (argv, caps []string, err error) {
	for _, s := range strings.Split(labels[naming.LabelImageCaps], ",") {
		if name, ok := CapName(s); ok && s != "" {
			caps = append(caps, name)
		}
	}
	switch {
	case len(c.Command) == 1:
		cmd = []string{"/bin/sh", "-c", c.Command[0]}
		entry = nil
	case len(c.Command) > 1:
		cmd = c.Command
	}
	argv = append(append([]string{}, entry...), cmd...)
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("image %q has no command and the node gives none: set command in the lab file", c.Image)
	}
	return argv, caps, nil
}

// CapAdd is the node's capabilities plus its image's, less what it drops.
func CapAdd(c *planner.Container, image []string) []string {
	out := slices.Clone(c.CapAdd)
	if slices.Contains(c.CapDrop, "ALL") {
		return out
	}
	for _, name := range image {
		if !slices.Contains(out, name) && !slices.Contains(c.CapDrop, name) {
			out = append(out, name)
		}
	}
	return out
}

// BuildHint says how to get an image that is not on this machine.
func BuildHint(image string) string {
	switch {
	case image == "netlab/tiny":
		return "build it with scripts/build-tiny.sh"
	case strings.HasPrefix(image, "fopnp/"):
		return "build the playground's images with make images"
	}
	return "build it or load it (docker build, docker load, docker import) first"
}

// WithFiles is an init command line (InitArgs, "_init" second) with the
// option that has the init copy the node's files from nodeinit.FilesDir
// into place: for a runtime that cannot write into a node's file system
// before it starts (Docker, Kubernetes).
func WithFiles(entry []string) []string {
	return append([]string{entry[0], entry[1], "--files", nodeinit.FilesDir}, entry[2:]...)
}

// NodeFilePath is the clean path in the node of one of its files, which
// must be absolute and not the root.
func NodeFilePath(node, p string) (string, error) {
	clean := path.Clean(p)
	if !path.IsAbs(clean) || clean == "/" {
		return "", fmt.Errorf("node %s: file %q: the path in the node must be absolute", node, p)
	}
	return clean, nil
}

// InitArgs is netlab's init with its options, up to "--": what a node
// runs before its own command.
func InitArgs(c *planner.Container) []string {
	entry := []string{InitPath, "_init"}
	if len(c.DHCP) > 0 {
		entry = append(entry, "--dhcp", strings.Join(c.DHCP, ","))
		if c.DHCPDNS {
			entry = append(entry, "--dhcp-dns")
		}
	}
	return append(entry, "--")
}

// Container is one of a lab's containers, as listed.
type Container struct {
	ID, Name, Node, State, Status, Image string
	Labels                               map[string]string
	Runtime                              string // RuntimeDocker, RuntimeRunc, RuntimeKubernetes
	ImageRoot                            string // runc: the unpacked image its root is made on
}

// RunCommand runs a runtime's client with stdio and returns its exit
// code; not starting it is the error.
func RunCommand(cmd *exec.Cmd, stdio Stdio) (int, error) {
	if stdio.TTY && stdio.Resize != nil {
		return runOnPTY(cmd, stdio)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	return 0, nil
}

// CapName normalises a capability name: upper case, no CAP_ prefix. ok is
// false for a name Linux does not know ("ALL" is known).
func CapName(s string) (name string, ok bool) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
	return name, name == "ALL" || slices.Contains(CapNumbers, name)
}

// CapNumbers are the capabilities Linux knows, by number (capability.h).
var CapNumbers = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
	"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// NodeSysctls are the node's sysctls over Docker's defaults for a
// container without IPv6: IPv6 off (no ::1 on lo) unless the node's own
// say otherwise (the planner switches it on for IPv6 nodes). On a host
// whose kernel has no IPv6 at all (ipv6.disable=1) there is nothing to
// switch off, and a sysctl that does not exist would stop the node.
func NodeSysctls(own map[string]string) map[string]string {
	out := map[string]string{}
	if hostHasIPv6() {
		out["net.ipv6.conf.all.disable_ipv6"], out["net.ipv6.conf.default.disable_ipv6"] = "1", "1"
	}
	maps.Copy(out, own)
	return out
}

// hostHasIPv6 tells whether the kernel has IPv6 (its sysctls exist).
var hostHasIPv6 = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/sys/net/ipv6")
	return err == nil
})
