package runc

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/trust"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerCaps is the Docker engine's default capability set.
var dockerCaps = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

// dockerMasked are the paths Docker hides from a container.
var dockerMasked = []string{"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap"}

// nodeCaps is Docker's default set with the node's additions, less its
// drops ("ALL" in either), as CAP_ names.
func nodeCaps(add, drop []string) []string {
	var set []string
	if !slices.Contains(drop, "ALL") {
		set = slices.Clone(dockerCaps)
	}
	for _, c := range add {
		if c == "ALL" {
			set = slices.Clone(allCaps())
			break
		}
		set = append(set, c)
	}
	set = slices.DeleteFunc(set, func(c string) bool { return slices.Contains(drop, c) })
	slices.Sort(set)
	set = slices.Compact(set)
	out := make([]string, len(set))
	for i, c := range set {
		out[i] = "CAP_" + c
	}
	return out
}

// allCaps are the capabilities of this host's bounding set.
func allCaps() []string {
	var out []string
	data, _ := os.ReadFile("/proc/self/status")
	var bnd uint64
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	for i, name := range engine.CapNumbers {
		if bnd&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// runcConfig is the node's config.json: what Docker gives a node made by
// Docker.Create, in the runtime-spec's terms.
func runcConfig(c *planner.Container, img *rootfs.Image, user specs.User, argv, add []string, dir, run, init string) (*specs.Spec, error) {
	env := map[string]string{}
	var order []string
	for _, kv := range img.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	if _, ok := env["PATH"]; !ok {
		order = append(order, "PATH")
		env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = c.Env[k]
	}
	envList := []string{"HOSTNAME=" + c.Hostname}
	for _, k := range order {
		if k != "HOSTNAME" {
			envList = append(envList, k+"="+env[k])
		}
	}
	caps := nodeCaps(add, c.CapDrop)
	cwd := img.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	annotations := maps.Clone(c.Labels)
	annotations[naming.LabelConfig] = c.Config().Label()
	annotations[naming.LabelInit] = init
	annotations[annotationImage] = c.Image
	annotations[annotationLower] = img.Dir
	mounts := []specs.Mount{
		rootMount(img.Dir, dir),
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		bind(filepath.Join(dir, "hosts"), "/etc/hosts", false),
		bind(filepath.Join(dir, "hostname"), "/etc/hostname", false),
		bind(filepath.Join(dir, "resolv.conf"), "/etc/resolv.conf", false),
		bind(init, engine.InitPath, true),
		bind(run, engine.ReadyDir, true),
		bind(engine.GateDir(c.Labels[naming.LabelLab]), engine.GatePath, true),
	}
	volumes, err := trust.ConfineVolumes(c.Labels[naming.LabelFile], c.Volumes, c.HostAllowed)
	if err != nil {
		return nil, err
	}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.Contains(parts[0], "/") {
			return nil, fmt.Errorf("volume %q: the runc runtime binds host paths only (SRC:DST[:ro], SRC absolute or ./relative); named volumes need the docker runtime", v)
		}
		if abs, err := filepath.Abs(parts[0]); err == nil {
			parts[0] = abs
		}
		if err := os.MkdirAll(parts[0], 0o755); err != nil && !errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("volume %q: %w", v, err)
		}
		bm := bind(parts[0], parts[1], len(parts) > 2 && slices.Contains(strings.Split(parts[2], ","), "ro"))
		mounts = append(mounts, bm)
	}
	namespaces := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace},
		{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace}}
	if _, err := os.Stat("/proc/self/ns/cgroup"); err == nil {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return &specs.Spec{
		Version: "1.0.2",
		Process: &specs.Process{
			User: user,
			Args: append(engine.InitArgs(c), argv...),
			Env:  envList,
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
		},
		Root:        &specs.Root{Path: filepath.Join(dir, "rootfs")},
		Hostname:    c.Hostname,
		Mounts:      mounts,
		Annotations: annotations,
		Linux: &specs.Linux{
			Sysctl:      engine.NodeSysctls(c.Sysctls),
			CgroupsPath: "/netlab/" + c.Name,
			Resources:   resources(c.Resources),
			Namespaces:  namespaces,
			// Private, as Docker makes it: with runc's default (rslave)
			// every node's mount namespace receives every later mount of
			// the host, each other node's overlay root among them, so
			// that starting N nodes cost N² mount propagations.
			RootfsPropagation: "rprivate",
			MaskedPaths:       dockerMasked,
			ReadonlyPaths:     engine.ReadonlyPaths,
		},
	}, nil
}

func bind(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}
