package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/rootfs"
)

// The runc runtime starts each node with the OCI runtime directly: no
// engine in between. A node is a bundle in the lab's run directory,
//
//	RunDir/LAB/.runc/NODE/config.json   the OCI configuration (netlab's labels as annotations)
//	                     /rootfs        an overlayfs: the image's unpacked root (rootfs package) under upper/
//	                     /upper, /work  the node's own writable layer, kept across restarts
//	                     /hosts, /hostname, /resolv.conf   bound over the node's /etc files
//	                     /log           the output of the node's command
//
// and a runc container named like a Docker node (LAB_NODE), in runc's own
// state directory (RuncRoot), so that Docker's containers are never touched.

// RuncRoot is runc's state directory for netlab's nodes.
var RuncRoot = filepath.Join(RunDir, ".runc")

// Annotations of a runc node besides netlab's labels: the image it was
// made from, and the unpacked root its overlay has as lower layer.
const (
	annotationImage = "netlab.image"
	annotationLower = "netlab.lower"
)

// Runc runs nodes with the runc binary.
type Runc struct {
	bin    string
	root   string
	images *rootfs.Cache

	mu     sync.Mutex
	loaded map[string]*rootfs.Image // image reference -> unpacked image, for this process
}

var _ Runtime = (*Runc)(nil)

// NewRunc finds the runc binary.
func NewRunc() (*Runc, error) {
	bin, err := exec.LookPath("runc")
	if err != nil {
		return nil, errors.New("the runc runtime needs the runc command, which is not installed: apt-get install runc (scripts/setup.sh does)")
	}
	return &Runc{bin: bin, root: RuncRoot, images: rootfs.NewCache(rootfs.DefaultDir), loaded: map[string]*rootfs.Image{}}, nil
}

// Close releases the image cache's client.
func (r *Runc) Close() error { return r.images.Close() }

// bundle is the directory of a node's bundle.
func bundle(lab, node string) string { return filepath.Join(RunDir, lab, ".runc", node) }

// bundleOf is the bundle of a container id (LAB_NODE: neither name has '_').
func bundleOf(id string) (string, bool) {
	lab, node, ok := strings.Cut(id, "_")
	if !ok || lab == "" || node == "" || strings.ContainsAny(id, "/.") {
		return "", false
	}
	return bundle(lab, node), true
}

// Has tells whether the container is one of the runc runtime's nodes.
func (r *Runc) Has(id string) bool {
	dir, ok := bundleOf(id)
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil
}

// runc runs the runc command with the runtime's state directory. It is
// not cancelled with ctx: a runc killed half-way leaves a container that
// it neither made nor removed whole.
func (r *Runc) runc(args ...string) ([]byte, error) {
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("runc %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// image returns the unpacked image, once per process and reference.
func (r *Runc) image(ctx context.Context, ref string) (*rootfs.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if img := r.loaded[ref]; img != nil {
		return img, nil
	}
	img, err := r.images.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, buildHint(ref))
	}
	r.loaded[ref] = img
	return img, nil
}

// HasImage tells whether the image is a directory here (oci:PATH,
// rootfs:PATH) or is in the cache or Docker's store (rootfs asks).
func (r *Runc) HasImage(ctx context.Context, image string) (bool, error) {
	for _, prefix := range []string{rootfs.PrefixOCI, rootfs.PrefixRootfs} {
		if p, ok := strings.CutPrefix(image, prefix); ok {
			if prefix == rootfs.PrefixOCI {
				p, _, _ = strings.Cut(p, ":")
			}
			_, err := os.Stat(p)
			return err == nil, nil
		}
	}
	_, err := r.image(ctx, image)
	return err == nil, nil
}

// Create makes the node's bundle: its own layer with its files, its /etc
// files and config.json, whose first mount is its overlay root. The node
// starts with Start.
func (r *Runc) Create(ctx context.Context, lab string, c *planner.Container, hosts []planner.Host, init string) (id string, err error) {
	img, err := r.image(ctx, c.Image)
	if err != nil {
		return "", err
	}
	argv, imageCaps, err := nodeArgv(c, img.Entrypoint, img.Cmd, img.Labels)
	if err != nil {
		return "", err
	}
	node := c.Labels[naming.LabelNode]
	dir := bundle(lab, node)
	run := filepath.Join(RunDir, lab, node)
	for _, d := range []string{run, filepath.Join(dir, "rootfs"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	done := false
	defer func() {
		if !done { // created half: up makes it again
			removeBundle(dir)
		}
	}()
	user, err := writeRoot(img, dir, c.Files)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	resolv, err := resolvConf(c.DNS, c.DNSSearch)
	if err != nil {
		return "", err
	}
	for name, content := range map[string]string{"hosts": HostsFile(hosts), "hostname": c.Hostname + "\n", "resolv.conf": resolv} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	cfg, err := runcConfig(c, img, user, argv, capAdd(c, imageCaps), dir, run, init)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return "", err
	}
	done = true
	return c.Name, nil
}

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
	for i, name := range capNumbers {
		if bnd&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// capNumbers are the capabilities by number (capability.h).
var capNumbers = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
	"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

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
		bind(init, InitPath, true),
		bind(run, ReadyDir, true),
	}
	for _, v := range c.Volumes {
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
			Args: append(initArgs(c), argv...),
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
			Sysctl:      nodeSysctls(c.Sysctls),
			CgroupsPath: "/netlab/" + c.Name,
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: namespaces,
			// Private, as Docker makes it: with runc's default (rslave)
			// every node's mount namespace receives every later mount of
			// the host, each other node's overlay root among them, so
			// that starting N nodes cost N² mount propagations.
			RootfsPropagation: "rprivate",
			MaskedPaths:       dockerMasked,
			ReadonlyPaths:     readonlyPaths,
		},
	}, nil
}

// nodeSysctls are the node's sysctls over Docker's defaults for a
// container without IPv6: IPv6 off (no ::1 on lo) unless the node's own
// say otherwise (the planner switches it on for IPv6 nodes).
func nodeSysctls(own map[string]string) map[string]string {
	out := map[string]string{"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"}
	maps.Copy(out, own)
	return out
}

func bind(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// lookupUser turns an image's user ("", "name", "uid", "name:group",
// "uid:gid") into ids, from the node's /etc/passwd and /etc/group.
func lookupUser(root, user string) (specs.User, error) {
	if user == "" {
		return specs.User{}, nil
	}
	name, group, _ := strings.Cut(user, ":")
	var u specs.User
	var gidSet bool
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID = uint32(id)
	} else {
		f, ok := findEntry(filepath.Join(root, "etc/passwd"), name)
		if !ok || len(f) < 4 {
			return u, fmt.Errorf("the image's user %q is not in its /etc/passwd", name)
		}
		uid, _ := strconv.ParseUint(f[2], 10, 32)
		gid, _ := strconv.ParseUint(f[3], 10, 32)
		u.UID, u.GID, gidSet = uint32(uid), uint32(gid), true
	}
	switch {
	case group == "":
	case isNumber(group):
		gid, _ := strconv.ParseUint(group, 10, 32)
		u.GID, gidSet = uint32(gid), true
	default:
		f, ok := findEntry(filepath.Join(root, "etc/group"), group)
		if !ok || len(f) < 3 {
			return u, fmt.Errorf("the image's group %q is not in its /etc/group", group)
		}
		gid, _ := strconv.ParseUint(f[2], 10, 32)
		u.GID, gidSet = uint32(gid), true
	}
	if !gidSet {
		u.GID = u.UID
	}
	return u, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// findEntry returns the colon-separated fields of name's line in a
// passwd or group file.
func findEntry(file, name string) ([]string, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 && f[0] == name {
			return f, true
		}
	}
	return nil, false
}

// resolvConf is a node's /etc/resolv.conf as Docker writes it for a
// container without a network: the node's dns and dns_search, otherwise
// the host's, without the loopback name servers that the node cannot
// reach (Google's public ones when none is left).
func resolvConf(dns, search []string) (string, error) {
	var servers, domains, options []string
	if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "nameserver":
				if !strings.HasPrefix(f[1], "127.") && f[1] != "::1" {
					servers = append(servers, f[1])
				}
			case "search", "domain":
				domains = f[1:]
			case "options":
				options = append(options, f[1:]...)
			}
		}
	}
	if len(dns) > 0 {
		servers = dns
	} else if len(servers) == 0 {
		servers = []string{"8.8.8.8", "8.8.4.4"}
	}
	if len(search) > 0 {
		domains = search
	}
	var b strings.Builder
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(domains) > 0 {
		b.WriteString("search " + strings.Join(domains, " ") + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String(), nil
}

// writeFiles writes the node's files through its mounted root (so that
// they land in its own layer), never following a link out of it.
func writeFiles(root string, files map[string]string) error {
	if len(files) == 0 {
		return nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("file %q: the path in the node must be absolute", p)
		}
		rel := strings.TrimPrefix(filepath.Clean(p), "/")
		if err := r.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		if err := r.WriteFile(rel, []byte(files[p]), 0o644); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		if err := r.Chmod(rel, 0o644); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
	}
	return nil
}

// writeRoot writes the node's files into its own layer, through its
// overlay root mounted for that only, and returns the image's user as the
// node's root then has it (its /etc/passwd may be one of the files). The
// node's root is mounted by runc, in the node's mount namespace (the
// first of its mounts): on the host, every mount would be copied into each
// later node's namespace, and each node would start slower than the one
// before.
func writeRoot(img *rootfs.Image, dir string, files map[string]string) (user specs.User, err error) {
	if len(files) == 0 {
		return lookupUser(img.Dir, img.User)
	}
	if err := mountOverlay(img.Dir, dir); err != nil {
		return specs.User{}, err
	}
	merged := filepath.Join(dir, "rootfs")
	defer func() {
		if uerr := unix.Unmount(merged, unix.MNT_DETACH); uerr != nil && err == nil {
			err = fmt.Errorf("unmount %s: %w", merged, uerr)
		}
	}()
	if err := writeFiles(merged, files); err != nil {
		return specs.User{}, fmt.Errorf("write its files: %w", err)
	}
	return lookupUser(merged, img.User)
}

// rootMount is the node's root, an overlayfs of its image (lower) under
// its own layer, mounted by runc as the node's first mount.
func rootMount(lower, dir string) specs.Mount {
	return specs.Mount{Destination: "/", Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + lower, "upperdir=" + filepath.Join(dir, "upper"), "workdir=" + filepath.Join(dir, "work")}}
}

// rebase puts the node's own layer on another image root (lower): the
// bundle's config then mounts that one.
func rebase(cfg *specs.Spec, lower, dir string) error {
	if len(cfg.Mounts) == 0 || cfg.Mounts[0].Destination != "/" {
		return fmt.Errorf("%s: its first mount is not the node's root; netlab down and up make it again", dir)
	}
	cfg.Mounts[0] = rootMount(lower, dir)
	cfg.Annotations[annotationLower] = lower
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return path != "" && err == nil
}

// mountOverlay mounts the node's root: lower the image, upper and work
// its own, on dir/rootfs. Mounted already is success.
func mountOverlay(lower, dir string) error {
	merged := filepath.Join(dir, "rootfs")
	if mounted(merged) {
		return nil
	}
	opts := "lowerdir=" + lower + ",upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount the overlay root %s (%s): %w", merged, opts, err)
	}
	return nil
}

// mounted tells whether dir is a mount point (another device than its parent).
func mounted(dir string) bool {
	var a, b unix.Stat_t
	if unix.Lstat(dir, &a) != nil || unix.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// removeBundle unmounts a node's root and removes its bundle.
func removeBundle(dir string) error {
	merged := filepath.Join(dir, "rootfs")
	for mounted(merged) {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", merged, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove bundle %s: %w", dir, err)
	}
	return nil
}

// state is what runc keeps of a container it runs (its state.json).
type state struct {
	Pid   int    `json:"init_process_pid"`
	Start uint64 `json:"init_process_start"`
}

// readState reads the init process's pid and start time from runc's
// state file. They come first in it, before the container's whole
// configuration (9 KB), which is not read: listing a lab reads every
// node's state.
func readState(file string) (state, error) {
	var st state
	f, err := os.Open(file)
	if err != nil {
		return st, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return st, fmt.Errorf("%s: not a JSON object", file)
	}
	for seen := 0; seen < 2 && dec.More(); {
		key, err := dec.Token()
		if err != nil {
			return st, fmt.Errorf("%s: %w", file, err)
		}
		var v any = new(json.RawMessage)
		switch key {
		case "init_process_pid":
			v, seen = &st.Pid, seen+1
		case "init_process_start":
			v, seen = &st.Start, seen+1
		}
		if err := dec.Decode(v); err != nil {
			return st, fmt.Errorf("%s: %s: %w", file, key, err)
		}
	}
	return st, nil
}

// process returns the container's init process, 0 when it does not run
// (its process gone, a zombie, or another process with the pid). known
// tells whether runc has the container.
func (r *Runc) process(id string) (pid int, known bool) {
	st, err := readState(filepath.Join(r.root, id, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil || st.Pid == 0 {
		return 0, true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/stat")
	if err != nil || !procRunning(stat, st.Start) {
		return 0, true
	}
	return st.Pid, true
}

// procRunning tells from a process's /proc/PID/stat whether it is the one
// that started at start (clock ticks since boot) and has not ended. A
// zombie ended, unless other threads of it still run: the thread group's
// leader is a zombie while another thread of it execs (the kernel then
// kills the others and gives the exec'ing thread the leader's pid and
// start time), as a Go program does that execs from another thread than
// its first, netlab-init among them. On two busy cores that takes long
// enough that 1,000-node ups took one to three nodes for dead at start and
// stopped them.
func procRunning(stat []byte, start uint64) bool {
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	// fields[0] is the state, [17] the number of threads, [19] the start time.
	if len(fields) < 20 || fields[19] != strconv.FormatUint(start, 10) {
		return false
	}
	switch fields[0] {
	case "X":
		return false
	case "Z":
		return fields[17] != "1"
	}
	return true
}

// Inspect returns the node's process and namespace (Pid 0 if stopped).
func (r *Runc) Inspect(ctx context.Context, id string) (Node, error) {
	if !r.Has(id) {
		return Node{}, fmt.Errorf("inspect container %s: %w", id, ErrNoContainer)
	}
	n := Node{ID: id}
	pid, _ := r.process(id)
	if pid == 0 {
		return n, nil
	}
	ns, err := nodeinit.Instance(strconv.Itoa(pid))
	if err != nil {
		return n, nil // ended meanwhile
	}
	n.Pid, n.NetNS = pid, ns
	return n, nil
}

// Start runs the node's command (runc run --detach) unless it runs. A
// node whose process ended runs again on the same root, its own layer
// kept, as a restarted Docker container keeps its file system.
func (r *Runc) Start(ctx context.Context, id string) (Node, error) {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return Node{}, fmt.Errorf("start container %s: %w", id, ErrNoContainer)
	}
	pid, known := r.process(id)
	if pid != 0 {
		return r.Inspect(ctx, id)
	}
	if known {
		if _, err := r.runc("delete", "--force", id); err != nil {
			return Node{}, err
		}
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return Node{}, err
	}
	if err := os.Remove(filepath.Join(dir, stoppedMark)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Node{}, err
	}
	// The root it was made on: a rebuilt image's would not match the
	// node's own layer. Gone from the cache: the image's current one.
	if lower := cfg.Annotations[annotationLower]; !exists(lower) {
		img, err := r.image(ctx, cfg.Annotations[annotationImage])
		if err != nil {
			return Node{}, err
		}
		if err := rebase(cfg, img.Dir, dir); err != nil {
			return Node{}, fmt.Errorf("start container %s: %w", id, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(RunDir, cfg.Annotations[naming.LabelLab], cfg.Annotations[naming.LabelNode]), 0o755); err != nil {
		return Node{}, err
	}
	logFile := filepath.Join(dir, "log")
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Node{}, fmt.Errorf("log of container %s: %w", id, err)
	}
	defer log.Close()
	offset, _ := log.Seek(0, io.SeekEnd)
	// runc passes its standard output and error on to the node's process:
	// the log file. Its own errors land there too.
	cmd := exec.Command(r.bin, "--root", r.root, "run", "--detach", "--bundle", dir, id) // not cancelled: see runc
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return Node{}, fmt.Errorf("start container %s: runc run: %v: %s", id, err, readFrom(logFile, offset))
	}
	n, err := r.Inspect(ctx, id)
	if err == nil && n.Pid == 0 {
		err = fmt.Errorf("container %s exited at once; see netlab logs %s %s", id, cfg.Annotations[naming.LabelLab], cfg.Annotations[naming.LabelNode])
	}
	return n, err
}

// readFrom returns what a file holds from offset on, trimmed.
func readFrom(file string, offset int64) string {
	data, _ := os.ReadFile(file)
	if int64(len(data)) < offset {
		return ""
	}
	return string(bytes.TrimSpace(data[offset:]))
}

// readConfig reads a node's config.json.
func readConfig(dir string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var cfg specs.Spec
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, "config.json"), err)
	}
	if cfg.Root == nil {
		return nil, fmt.Errorf("%s has no root", filepath.Join(dir, "config.json"))
	}
	return &cfg, nil
}

// List returns the lab's nodes ("" lists every lab's), from their bundles.
func (r *Runc) List(ctx context.Context, lab string) ([]Container, error) {
	pattern := filepath.Join(RunDir, lab, ".runc", "*", "config.json")
	if lab == "" {
		pattern = filepath.Join(RunDir, "*", ".runc", "*", "config.json")
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(files))
	for _, f := range files {
		// The annotations only: not the node's whole config.
		var cfg struct {
			Annotations map[string]string `json:"annotations"`
		}
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err == nil {
			err = json.Unmarshal(data, &cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		labels := map[string]string{}
		for k, v := range cfg.Annotations {
			if k != annotationImage && k != annotationLower {
				labels[k] = v
			}
		}
		id := naming.Container(labels[naming.LabelLab], labels[naming.LabelNode])
		st := "created"
		if pid, known := r.process(id); pid != 0 {
			st = "running"
		} else if known {
			st = "exited"
		}
		out = append(out, Container{ID: id, Name: id, Node: labels[naming.LabelNode], State: st, Status: st,
			Image: cfg.Annotations[annotationImage], Labels: labels, Runtime: RuntimeRunc, ImageRoot: cfg.Annotations[annotationLower]})
	}
	sortContainers(out)
	return out, nil
}

// Died lists the lab's nodes whose process has ended, as netlab up asks
// of the nodes it started (since is when it began: a runc node stays down
// once its process ends, so every one that does not run now has ended).
// runc keeps no exit code: -1.
func (r *Runc) Died(ctx context.Context, lab string, since time.Time) (map[string]int, error) {
	// The bundles' names and runc's state, not List: its read of every
	// node's configuration is most of its time.
	bundles, err := os.ReadDir(filepath.Join(RunDir, lab, ".runc"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	out := map[string]int{}
	for _, b := range bundles {
		if pid, known := r.process(naming.Container(lab, b.Name())); b.IsDir() && known && pid == 0 {
			out[b.Name()] = -1
		}
	}
	return out, nil
}

// stoppedMark, in a bundle, says that the node was stopped on purpose:
// the lab's watcher does not start it again (up and start do).
const stoppedMark = "stopped"

// Stop sends the node's process SIGTERM, then SIGKILL after 10 s, and
// marks it stopped.
func (r *Runc) Stop(ctx context.Context, id string) error {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, stoppedMark), nil, 0o644); err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	for _, sig := range []string{"TERM", "KILL"} {
		if pid, _ := r.process(id); pid == 0 {
			return nil
		}
		if _, err := r.runc("kill", id, sig); err != nil {
			if pid, _ := r.process(id); pid == 0 {
				return nil
			}
			return fmt.Errorf("stop container %s: %w", id, err)
		}
		for range 100 {
			if pid, _ := r.process(id); pid == 0 {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return fmt.Errorf("stop container %s: its process outlived SIGKILL", id)
}

// Remove stops the node's process, deletes runc's container, unmounts its
// root and removes its bundle; gone is success.
func (r *Runc) Remove(ctx context.Context, id string) error {
	dir, ok := bundleOf(id)
	if !ok {
		return nil
	}
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		// Killed here first: runc delete --force of a running container
		// polls every 100 ms for its end; of a stopped one it only cleans up.
		if pid, _ := r.process(id); pid != 0 {
			unix.Kill(pid, unix.SIGKILL)
			for i := 0; i < 500; i++ {
				if pid, _ := r.process(id); pid == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if _, err := r.runc("delete", "--force", id); err != nil {
			if _, known := r.process(id); known {
				return fmt.Errorf("remove container %s: %w", id, err)
			}
			// runc never finished making it (no state.json): nothing runs.
			if err := os.RemoveAll(filepath.Join(r.root, id)); err != nil {
				return fmt.Errorf("remove container %s: %w", id, err)
			}
		}
	}
	return removeBundle(dir)
}

// EnsureHosts rewrites the node's hosts file, which its /etc/hosts binds.
func (r *Runc) EnsureHosts(ctx context.Context, id string, hosts []planner.Host) (bool, error) {
	dir, ok := bundleOf(id)
	if !ok {
		return false, fmt.Errorf("container %s: %w", id, ErrNoContainer)
	}
	file := filepath.Join(dir, "hosts")
	want := HostsFile(hosts)
	if have, err := os.ReadFile(file); err == nil && string(have) == want {
		return false, nil
	}
	// In place: the node sees this inode through a bind mount.
	if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
		return false, fmt.Errorf("write /etc/hosts of %s: %w", id, err)
	}
	return true, nil
}

// Exec runs argv in the node with runc exec (a terminal with -t).
func (r *Runc) Exec(ctx context.Context, id string, argv []string, stdio Stdio) (int, error) {
	args := []string{"--root", r.root, "exec"}
	if stdio.TTY {
		args = append(args, "-t")
	}
	return runCommand(exec.CommandContext(ctx, r.bin, append(append(args, id), argv...)...), stdio)
}

// Logs copies the node's log file (its output, stdout and stderr in one)
// to stdout: the last tail lines ("all": every line); with follow, then
// what comes, until ctx ends or the node stops.
func (r *Runc) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	dir, ok := bundleOf(id)
	if !ok || !r.Has(id) {
		return fmt.Errorf("logs of container %s: %w", id, ErrNoContainer)
	}
	f, err := os.Open(filepath.Join(dir, "log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs of container %s: %w", id, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(tail); err == nil && tail != "all" {
		lines := bytes.SplitAfter(data, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		data = bytes.Join(lines[max(0, len(lines)-n):], nil)
	}
	if _, err := stdout.Write(data); err != nil || !follow {
		return err
	}
	rd := bufio.NewReader(f)
	for {
		if _, err := io.Copy(stdout, rd); err != nil {
			return err
		}
		if pid, _ := r.process(id); pid == 0 {
			_, err := io.Copy(stdout, rd)
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// unmountUnder unmounts what is mounted under dir (the overlay roots of
// nodes whose removal failed), so that removing dir never reaches into
// an image.
func unmountUnder(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var errs []error
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := unescapeOctal(f[4])
		if strings.HasPrefix(p, dir+"/") {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// unescapeOctal undoes mountinfo's \ooo escapes (of spaces, tabs, newlines).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
