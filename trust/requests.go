// Package trust names, in one place, everything a lab file asks for that
// reaches past its lab into the machine (bind mounts outside its
// directory, capabilities beyond a node's defaults, host bridges, NICs and
// links, host addresses, ports published beyond loopback, the host's
// sysctls, root file systems and files outside the lab), and decides
// whether a person has allowed it: for one run, by recording the file's
// content hash, or because the lab is one of netlab's own. It is pure: it
// reads files, never changes the machine, and needs no privilege.
package trust

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/rootfs"
	"github.com/netlab/netlab/spec"
)

// Kind is what part of the host a request reaches.
type Kind string

// The kinds of requests.
const (
	Mount      Kind = "mount"      // a bind mount of a host path outside the lab's directory
	Capability Kind = "capability" // a capability beyond the engine's defaults, NET_ADMIN and NET_RAW
	RootFS     Kind = "rootfs"     // a root file system or OCI layout outside the lab's directory
	Bridge     Kind = "bridge"     // a network on an existing host bridge
	Macvlan    Kind = "macvlan"    // a network of macvlans of a host interface
	HostLink   Kind = "host-link"  // a link to the machine itself, with its host addresses
	Publish    Kind = "publish"    // a port published on an address other than loopback
	Sysctl     Kind = "sysctl"     // a sysctl outside net.*
	HostFile   Kind = "host-file"  // a file outside the lab's directory that the lab reads
	ImageCaps  Kind = "image-caps" // capabilities the netlab.cap_add label of an OCI layout in the lab's folder adds
)

// Request is one thing a lab asks of the host, at its place in the file.
type Request struct {
	Kind Kind   `json:"kind"`
	Path string `json:"path"` // YAML path, as problems write it: nodes.h1.volumes[0]
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Text string `json:"text"` // a sentence for a person: what it reaches, and why that matters
}

func (r Request) String() string {
	pos := r.File
	if r.Line > 0 {
		pos = fmt.Sprintf("%s:%d:%d", r.File, r.Line, r.Col)
	}
	if pos != "" {
		pos += ": "
	}
	return fmt.Sprintf("%s%s: %s", pos, r.Path, r.Text)
}

// key identifies a request across runs, independent of its position.
func (r Request) key() string { return string(r.Kind) + " " + r.Path + " " + r.Text }

// EngineCaps is the container engine's default capability set (Docker's,
// which the runc runtime gives too); with spec.DefaultCaps, what every
// node has without asking.
var EngineCaps = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

// ExtraCaps lists the capabilities of caps (names as spec.CapName gives
// them, or "ALL") that a node does not have by default: the runtime checks
// an image's netlab.cap_add label with it, which the lab file cannot show.
func ExtraCaps(caps []string) []string {
	var out []string
	for _, c := range caps {
		name, _ := spec.CapName(c)
		if !slices.Contains(EngineCaps, name) && !slices.Contains(spec.DefaultCaps, name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// sensitive are host paths whose mount gives a node the machine, whatever
// the lab's directory.
var sensitive = []string{"/", "/proc", "/sys", "/dev", "/etc", "/boot", "/root", "/home", "/var/run", "/run",
	"/var/lib/docker", "/var/lib/netlab", "/run/netlab", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd"}

// Requests lists what lab asks of the host, in file order. The lab's
// directory is where its file is (for a Kathará lab, the lab's folder).
func Requests(lab *spec.Lab) []Request {
	r := &requester{lab: lab, dir: LabDir(lab)}
	for _, name := range lab.SortedNetworks() {
		nw := lab.Networks[name]
		if nw.External != "" {
			r.add(Bridge, spec.YAMLPath("networks", name, "external"), "network %s is the host bridge %s: its members join the machine's own network, and DHCP or routers in the lab serve it", name, nw.External)
		}
		if nw.Macvlan != "" {
			r.add(Macvlan, spec.YAMLPath("networks", name, "macvlan"), "network %s gives its members macvlans of the host interface %s: they are on the machine's own network", name, nw.Macvlan)
		}
	}
	for _, n := range lab.SortedNodes() {
		r.node(n)
	}
	r.checks()
	for k, l := range lab.Links {
		if l.HostEnd < 0 {
			continue
		}
		at := spec.YAMLPath("links", k)
		ifname := l.Endpoints[l.HostEnd].Interface
		text := fmt.Sprintf("a link to the machine itself: interface %s on the host, wired to %s", ifname, l.Endpoints[1-l.HostEnd])
		var wide []string
		for _, p := range l.HostAddrs {
			if p.Bits() <= 1 {
				wide = append(wide, p.String())
			}
		}
		if len(l.HostAddrs) > 0 {
			text += fmt.Sprintf(", with host address %s", joinPrefixes(l.HostAddrs))
		}
		if len(wide) > 0 {
			text += fmt.Sprintf(" (%s routes every address of the family through the lab)", strings.Join(wide, ", "))
		}
		r.add(HostLink, at, "%s", text)
	}
	slices.SortStableFunc(r.out, func(a, b Request) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return r.out
}

type requester struct {
	lab  *spec.Lab
	dir  string
	seen map[string]bool // paths reported, for values taken from defaults
	out  []Request
}

func (r *requester) add(kind Kind, at, format string, args ...any) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[at] {
		return
	}
	r.seen[at] = true
	line, col := r.lab.Position(at)
	r.out = append(r.out, Request{Kind: kind, Path: at, File: r.lab.File, Line: line, Col: col, Text: fmt.Sprintf(format, args...)})
}

func (r *requester) node(n *spec.Node) {
	for k, v := range n.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if why := r.outside(src, true); why != "" {
			r.add(Mount, n.Path("volumes", k), "host path %s is mounted into %s%s", src, who(n, "volumes"), why)
		}
	}
	if extra := ExtraCaps(n.Caps.Add); len(extra) > 0 {
		at := n.Path("cap_add")
		if len(n.CapAdd) == 0 {
			at = spec.YAMLPath("nodes", n.Name)
		}
		r.add(Capability, at, "capabilities %s beyond the defaults are given to %s: with them a process in a node can act on the machine", strings.Join(extra, ", "), who(n, "cap_add"))
	}
	if kind, p, ok := strings.Cut(n.Image, ":"); ok && (kind == "rootfs" || kind == "oci") {
		if why := r.outside(p, false); why != "" {
			r.add(RootFS, n.Path("image"), "node %s runs the %s %s of the host%s", n.Name, map[string]string{"rootfs": "root file system", "oci": "OCI image layout"}[kind], p, why)
		} else if kind == "oci" {
			r.imageCaps(n, p)
		}
	}
	for k, p := range n.Published {
		if !p.HostIP.IsLoopback() {
			r.add(Publish, spec.YAMLPath("nodes", n.Name, "publish", k), "node %s's port %d/%s is published on %s port %d: reachable from other machines, not only from this one", n.Name, p.NodePort, p.Proto, hostIPText(p.HostIP.String()), p.HostPort)
		}
	}
	for _, k := range sortedKeys(n.Sysctls) {
		if !strings.HasPrefix(k, "net.") {
			r.add(Sysctl, n.Path("sysctls", k), "sysctl %s, which is not in a node's network namespace, is set by %s", k, who(n, "sysctls", k))
		}
	}
	if n.Config != nil && n.Config.FRR != "" && filepath.IsAbs(n.Config.FRR) {
		if why := r.outside(n.Config.FRR, false); why != "" {
			r.add(HostFile, spec.YAMLPath("nodes", n.Name, "config", "frr"), "node %s is given the host file %s as its FRR configuration%s", n.Name, n.Config.FRR, why)
		}
	}
}

// imageCaps adds the capabilities that the label netlab.cap_add of an OCI
// image layout in the lab's folder gives its nodes: the layout travels
// with the lab file, so its label is the file's request as much as
// cap_add is. (An image in the engine's store was built or pulled there
// by someone who can run the engine, root already: its label is honoured
// as installed software's.) A layout that cannot be read asks nothing
// here; up then fails on it.
func (r *requester) imageCaps(n *spec.Node, ref string) {
	if !filepath.IsAbs(ref) {
		ref = filepath.Join(r.dir, ref)
	}
	labels, err := rootfs.OCILabels(ref)
	if err != nil {
		return
	}
	var caps []string
	for _, c := range strings.Split(labels[naming.LabelImageCaps], ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(n.Caps.Drop, strings.ToUpper(strings.TrimPrefix(c, "CAP_"))) {
			caps = append(caps, c)
		}
	}
	if extra := ExtraCaps(caps); len(extra) > 0 && !slices.Contains(n.Caps.Drop, "ALL") {
		r.add(ImageCaps, n.Path("image"), "the image %s of node %s gives it capabilities %s beyond the defaults (its label %s): with them a process in a node can act on the machine",
			n.Image, n.Name, strings.Join(extra, ", "), naming.LabelImageCaps)
	}
}

// checks adds the signature files outside the lab's
// directory that the lab reads.
func (r *requester) checks() {
	for k, ch := range r.lab.Checks {
		if ch.Signature != "" && filepath.IsAbs(ch.Signature) {
			if why := r.outside(ch.Signature, false); why != "" {
				r.add(HostFile, spec.YAMLPath("checks", k, "signature"), "a check reads the host file %s%s", ch.Signature, why)
			}
		}
	}
}

// outside says why a host path is outside the lab's directory (", outside
// the lab's directory", ", a link that leads out of it", ", which holds
// the machine's own files"), or "" if it is beneath it. A volume source
// without a '/' is a volume of the engine's, not a host path.
func (r *requester) outside(src string, volume bool) string {
	if volume && !strings.Contains(src, "/") && src != "." && src != ".." {
		return ""
	}
	p := src
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.dir, p)
	}
	p = filepath.Clean(p)
	for _, s := range sensitive {
		if p == s {
			return ", which is the machine's own " + s
		}
	}
	if !beneath(r.dir, p) {
		return ", outside the lab's directory " + r.dir
	}
	// Beneath as written: and as the links on the way resolve now (also
	// for a path whose end does not exist yet, which a volume makes).
	if real, err := Resolve(p); err == nil {
		if dir, err := Resolve(r.dir); err == nil && !beneath(dir, real) {
			return ", through a link to " + real + ", outside the lab's directory"
		}
	}
	return ""
}

// who names the nodes a request is for: one node, or, for a value the
// node took from defaults (reported once, at defaults), every node that
// takes it.
func who(n *spec.Node, key string, more ...any) string {
	if strings.HasPrefix(n.Path(key, more...), "defaults.") {
		return "every node that takes defaults." + key
	}
	return "node " + n.Name
}

func beneath(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// LabDir is the directory a lab's files are relative to, absolute: its
// file's directory, or the file itself for a Kathará lab's folder.
func LabDir(lab *spec.Lab) string {
	dir := filepath.Dir(lab.File)
	if st, err := os.Stat(lab.File); err == nil && st.IsDir() {
		dir = lab.File
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

func hostIPText(ip string) string {
	switch ip {
	case "0.0.0.0", "::":
		return "every address of the machine (" + ip + ")"
	}
	return ip
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
