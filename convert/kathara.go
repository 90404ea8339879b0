// Package convert turns labs written for other tools into netlab lab files:
// Kathará lab directories (lab.conf, NODE.startup, NODE/ trees, shared/).
// The result is YAML text, commented, that netlab loads like any lab file,
// so that `netlab up DIR` and `netlab convert DIR -o lab.yaml` mean the same.
package convert

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/spec"
)

// Note is something of the source lab that has no meaning here, or that
// changed on the way, at a line of its file.
type Note struct {
	File string
	Line int
	Msg  string
}

func (n Note) String() string {
	if n.Line == 0 {
		return n.File + ": " + n.Msg
	}
	return fmt.Sprintf("%s:%d: %s", n.File, n.Line, n.Msg)
}

// Error is a source line that cannot be mapped; nothing is created.
type Error struct{ Notes []Note }

func (e *Error) Error() string {
	var lines []string
	for _, n := range e.Notes {
		lines = append(lines, n.String())
	}
	return strings.Join(lines, "\n")
}

// IsKathara tells whether dir is a Kathará lab (it holds a lab.conf).
func IsKathara(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "lab.conf"))
	return err == nil && st.Mode().IsRegular()
}

// MaxLabConfBytes is the largest lab.conf read.
const MaxLabConfBytes = 16 << 20

// Images maps Kathará's images to netlab's offline ones. netlab/host
// carries what kathara/base carries that labs use (Apache, BIND, the ISC
// DHCP server, dnsmasq, bridge-utils, the usual tools), so Kathará's
// single-service images map to it too; whatever the tag (kathara/bind:9.11).
var Images = map[string]string{
	"kathara/base":    "netlab/host",
	"kathara/common":  "netlab/host",
	"kathara/core":    "netlab/host",
	"kathara/bind":    "netlab/host",
	"kathara/apache":  "netlab/host",
	"kathara/dnsmasq": "netlab/host",
	"kathara/frr":     "netlab/router",
	"kathara/quagga":  "netlab/router",
}

type katharaNode struct {
	name    string
	line    int            // first line naming it
	ifaces  map[int]string // eth index -> collision domain
	macs    map[int]string
	image   string
	exec    []string
	sysctls map[string]string
	env     map[string]string
	ipv6    bool
	late    []string         // commands run after the wiring, before the startup scripts
	skip    map[string][]int // startup file -> lines made link impairments (kathara_tc.go)
}

var (
	ifaceSysctl = regexp.MustCompile(`^net\.ipv[46]\.(conf|neigh)\.eth[0-9]+\.`)
	confLine    = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\[([A-Za-z0-9_]+)\]\s*=\s*(.*)$`)
	metaLine    = regexp.MustCompile(`^(LAB_[A-Z]+)\s*=\s*(.*)$`)
)

// Kathara reads the Kathará lab in dir and returns an equivalent netlab
// lab file, and notes on what was ignored or changed.
func Kathara(dir string) (out []byte, notes []Note, err error) {
	conf := filepath.Join(dir, "lab.conf")
	data, err := spec.ReadLabFile(dir, "lab.conf", MaxLabConfBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("read Kathará lab: %w", err)
	}
	nodes := map[string]*katharaNode{}
	var order []string
	meta := map[string]string{}
	var errs []Note
	node := func(name string, line int) *katharaNode {
		n := nodes[name]
		if n == nil {
			n = &katharaNode{name: name, line: line, ifaces: map[int]string{}, macs: map[int]string{}, sysctls: map[string]string{}, env: map[string]string{}}
			nodes[name] = n
			order = append(order, name)
		}
		return n
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		text := strings.TrimSpace(sc.Text())
		if !utf8.ValidString(text) {
			errs = append(errs, Note{conf, ln, "the line is not UTF-8 text: save lab.conf as UTF-8"})
			continue
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if m := metaLine.FindStringSubmatch(text); m != nil {
			meta[m[1]] = unquote(m[2])
			continue
		}
		m := confLine.FindStringSubmatch(text)
		if m == nil {
			errs = append(errs, Note{conf, ln, fmt.Sprintf("%q is not NODE[N]=\"DOMAIN\", NODE[option]=\"value\" or LAB_*=\"...\": fix or remove the line", text)})
			continue
		}
		n, key, val := node(m[1], ln), m[2], unquote(m[3])
		if i, err := strconv.Atoi(key); err == nil {
			dom, mac, _ := strings.Cut(val, "/")
			switch {
			case dom == "":
				errs = append(errs, Note{conf, ln, fmt.Sprintf("%s[%d] names no collision domain: write %s[%d]=\"A\"", n.name, i, n.name, i)})
			case n.ifaces[i] != "":
				errs = append(errs, Note{conf, ln, fmt.Sprintf("%s[%d] is given twice (%s and %s): one collision domain an interface", n.name, i, n.ifaces[i], dom)})
			default:
				n.ifaces[i] = dom
				if mac != "" {
					n.macs[i] = mac
				}
			}
			continue
		}
		switch key {
		case "image":
			n.image = val
		case "exec":
			n.exec = append(n.exec, val)
		case "sysctl":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				errs = append(errs, Note{conf, ln, fmt.Sprintf("%s[sysctl]=%q is not key=value", n.name, val)})
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if ifaceSysctl.MatchString(k) {
				// The interface does not exist when the container starts:
				// set it once the node is wired, before its startup script.
				n.late = append(n.late, "sysctl -q -w "+k+"="+v)
				continue
			}
			n.sysctls[k] = v
		case "env":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				errs = append(errs, Note{conf, ln, fmt.Sprintf("%s[env]=%q is not NAME=value", n.name, val)})
				continue
			}
			n.env[strings.TrimSpace(k)] = v
		case "ipv6":
			n.ipv6 = val == "true" || val == "True" || val == "1"
		case "mem", "cpus", "shell", "num_terms", "bridged", "privileged", "port", "ulimit", "entrypoint", "args":
			notes = append(notes, Note{conf, ln, fmt.Sprintf("%s[%s] is ignored: %s", n.name, key, ignored[key])})
		default:
			errs = append(errs, Note{conf, ln, fmt.Sprintf("%s[%s]: unknown option (known: a number, image, exec, sysctl, env, ipv6, mem, cpus, port, bridged, shell, num_terms)", n.name, key)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w (a line of lab.conf is at most 64 KiB)", conf, err)
	}
	if len(errs) > 0 {
		return nil, notes, &Error{Notes: errs}
	}
	if len(order) == 0 {
		return nil, notes, &Error{Notes: []Note{{conf, 0, "no devices: a Kathará lab names at least one, as NODE[0]=\"A\""}}}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, notes, err
	}
	out, err = render(abs, meta, nodes, order, &notes)
	if err != nil {
		return nil, notes, fmt.Errorf("write the converted lab: %w", err)
	}
	return out, notes, nil
}

var ignored = map[string]string{
	"mem":        "netlab sets no memory limits",
	"cpus":       "netlab sets no CPU limits",
	"shell":      "netlab exec opens bash where the image has it, else sh",
	"num_terms":  "netlab opens no terminals: use netlab exec LAB NODE",
	"bridged":    "netlab has no management network; publish ports with publish: or link the machine with host:IFNAME",
	"privileged": "nodes are never privileged; they have NET_ADMIN and NET_RAW (cap_add for more)",
	"port":       "write publish: [\"HOST:GUEST\"] on the node in the converted file",
	"ulimit":     "netlab sets no ulimits",
	"entrypoint": "the node runs its startup script instead",
	"args":       "the node runs its startup script instead",
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

var nameOK = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// labName is a netlab lab name from LAB_NAME or the directory's name.
func labName(dir string, meta map[string]string) string {
	name := meta["LAB_NAME"]
	if name == "" {
		name = filepath.Base(dir)
	}
	name = strings.Trim(nameOK.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "kathara"
	}
	return name
}

// startup is a node's command: Kathará's boot sequence, run by netlab once
// the node is wired: the NODE/ tree copied into /, shared.startup, then
// NODE.startup, then [exec] commands; then the node waits.
func startup(n *katharaNode, dir string) string {
	parts := append([]string{}, n.late...)
	if isDir(dir, n.name) {
		parts = append(parts, "cp -rfT /hostlab/"+n.name+" /")
	}
	for _, f := range []string{"shared.startup", n.name + ".startup"} {
		if !fileExists(dir, f) {
			continue
		}
		if lines := n.skip[f]; len(lines) > 0 { // its tc netem lines are the link's impairments
			sed := "sed"
			for _, l := range lines {
				sed += fmt.Sprintf(" -e %dd", l)
			}
			parts = append(parts, sed+" /hostlab/"+f+" | sh")
			continue
		}
		parts = append(parts, "sh /hostlab/"+f)
	}
	parts = append(parts, n.exec...)
	parts = append(parts, "echo netlab: $(hostname) started", "exec sleep infinity")
	return strings.Join(parts, "; ")
}

func render(dir string, meta map[string]string, nodes map[string]*katharaNode, order []string, notes *[]Note) ([]byte, error) {
	d := newDoc()
	head := []string{"Converted by netlab convert from the Kathará lab " + dir + "."}
	for _, k := range []string{"LAB_DESCRIPTION", "LAB_VERSION", "LAB_AUTHOR", "LAB_EMAIL", "LAB_WEB"} {
		if v := meta[k]; v != "" {
			head = append(head, strings.ToLower(strings.TrimPrefix(k, "LAB_"))+": "+v)
		}
	}
	head = append(head, "",
		"Each collision domain is a network; NODE[N]=\"DOM\" is interface ethN on it.",
		"Every node starts as Kathará's devices do, once netlab has wired it: its",
		"NODE/ folder copied into /, shared.startup, NODE.startup, then [exec];",
		"the lab folder is at /hostlab and shared/ at /shared. netlab logs LAB NODE",
		"shows their output. Like Kathará's, the devices forward IPv4.")
	name := key("name")
	name.HeadComment = comments(head...)
	set(d.root, name, plain(labName(dir, meta)))
	defaults := set(d.root, key("defaults"), block())
	set(defaults, key("image"), plain("netlab/host"))
	set(defaults, key("forward"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	set(defaults, key("sysctls"), flowMapOf(map[string]string{"net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0"}))
	vols := set(defaults, key("volumes"), flowSeq())
	push(vols, quoted(dir+":/hostlab:ro"))
	if isDir(dir, "shared") {
		push(vols, quoted(filepath.Join(dir, "shared")+":/shared"))
	}
	for _, name := range order {
		if n := nodes[name]; captureImage(n.image) {
			*notes = append(*notes, Note{filepath.Join(dir, "lab.conf"), n.line, fmt.Sprintf("%s (%s) is left out: watch any interface with netlab capture LAB NODE:IF -w - | wireshark -k -i -", name, n.image)})
		}
	}
	links := impairedLinks(dir, order, nodes, notes)
	var domains []string
	for _, name := range order {
		if captureImage(nodes[name].image) {
			continue
		}
		for _, d := range nodes[name].ifaces {
			if links[d] == nil && !slices.Contains(domains, d) {
				domains = append(domains, d)
			}
		}
	}
	slices.Sort(domains)
	if len(domains) > 0 {
		networks := set(d.root, key("networks"), block())
		for _, dom := range domains {
			set(networks, quotedKey(networkName(dom)), flow())
		}
	}
	all := set(d.root, key("nodes"), block())
	for _, name := range order {
		n := nodes[name]
		if captureImage(n.image) {
			continue
		}
		node := set(all, key(nodeName(name)), block())
		if n.image != "" || runsFRR(dir, n.name) {
			kimg := n.image
			if kimg == "" {
				kimg = "kathara/base" // Kathará's default image
			}
			img, ok := Images[strings.Split(kimg, ":")[0]]
			if !ok {
				img = kimg
				*notes = append(*notes, Note{filepath.Join(dir, "lab.conf"), n.line, fmt.Sprintf("%s uses image %s, which netlab does not build: load it into Docker, or change the image", n.name, kimg)})
			}
			why := ""
			if img == "netlab/host" && runsFRR(dir, n.name) {
				// kathara/base has FRR too; netlab/router is the image
				// whose nodes get the capabilities FRR's daemons need.
				img, why = "netlab/router", ", which runs FRR here"
			}
			v := set(node, key("image"), plain(img))
			v.LineComment = "# Kathará: " + comment(kimg) + why
		}
		if len(n.ifaces) > 0 {
			ifaces := set(node, key("interfaces"), block())
			idx := make([]int, 0, len(n.ifaces))
			for i := range n.ifaces {
				idx = append(idx, i)
			}
			slices.Sort(idx)
			for _, i := range idx {
				m := set(ifaces, key(fmt.Sprintf("eth%d", i)), flow())
				if links[n.ifaces[i]] == nil {
					set(m, key("network"), quoted(networkName(n.ifaces[i])))
				}
				if mac := n.macs[i]; mac != "" {
					set(m, key("mac"), quoted(mac))
				}
			}
		}
		sys := map[string]string{}
		for k, v := range n.sysctls {
			sys[k] = v
		}
		if n.ipv6 { // as Kathará's devices with IPv6: on, and forwarding
			for k, v := range map[string]string{
				"net.ipv6.conf.all.disable_ipv6":     "0",
				"net.ipv6.conf.default.disable_ipv6": "0",
				"net.ipv6.conf.all.forwarding":       "1",
			} {
				if _, set := sys[k]; !set { // the lab's own [sysctl] wins
					sys[k] = v
				}
			}
		}
		if len(sys) > 0 {
			set(node, key("sysctls"), flowMapOf(sys))
		}
		if len(n.env) > 0 {
			set(node, key("env"), flowMapOf(n.env))
		}
		set(node, key("command"), quoted(startup(n, dir)))
	}
	renderLinks(d, links)
	if checks := katharaTests(dir, order, nodes, notes); len(checks) > 0 {
		k := key("checks")
		k.HeadComment = comments(
			"Kathará's tests (netlab check runs them): user tests, each device's",
			"shared.test and NODE.test, whose output must equal _test/signature/NODE.user;",
			"builtin tests, the device's interfaces, routes and listening ports as",
			"_test/signature/NODE.builtin records them (its processes are not compared).")
		list := set(d.root, k, seq())
		list.Content = checks
	}
	return d.bytes()
}

// katharaTests are checks made of Kathará's tests, device by device: its
// user test (for a signature _test/signature/NODE.user, its shared.test and
// NODE.test run in the device, and their output must be the signature), and
// its builtin test (for a signature _test/signature/NODE.builtin, the
// device's interfaces, routes and listening ports must be the signature's:
// a signature check). Builtin signatures of Netkit and of Kathará before
// 2019 (NODE.default) are noted and not compared.
func katharaTests(dir string, order []string, nodes map[string]*katharaNode, notes *[]Note) []*yaml.Node {
	var out []*yaml.Node
	var old []string
	shared := fileExists(dir, "shared.test")
	for _, name := range order {
		if captureImage(nodes[name].image) {
			continue
		}
		sigs := filepath.Join(dir, "_test", "signature")
		sig, err := spec.ReadLabFile(dir, filepath.Join("_test", "signature", name+".user"), spec.MaxSignatureBytes)
		own := fileExists(dir, name+".test")
		if err == nil && (own || shared) {
			var scripts []string
			if shared {
				scripts = append(scripts, "sh /hostlab/shared.test")
			}
			if own {
				scripts = append(scripts, "sh /hostlab/"+name+".test")
			}
			run := "(" + strings.Join(scripts, "; ") + ") 2>/dev/null; exit 0"
			want := `^\s*` + regexp.QuoteMeta(strings.TrimSpace(string(sig))) + `\s*$`
			c := flow()
			set(c, key("name"), quoted(name+": Kathará user test"))
			set(c, key("from"), plain(nodeName(name)))
			set(c, key("run"), quoted(run))
			set(c, key("output"), quoted(want))
			set(c, key("within"), plain("30s"))
			set(c, key("hint"), quoted("its output differs from _test/signature/"+name+".user: netlab exec LAB "+nodeName(name)+" -- sh /hostlab/"+name+".test"))
			out = append(out, c)
		}
		if fileExists(dir, filepath.Join("_test", "signature", name+".builtin")) {
			c := flow()
			set(c, key("name"), quoted(name+": Kathará builtin test"))
			set(c, key("on"), plain(nodeName(name)))
			set(c, key("signature"), quoted(filepath.Join(sigs, name+".builtin")))
			set(c, key("within"), plain("30s"))
			set(c, key("hint"), quoted("its state differs from _test/signature/"+name+".builtin: look with netlab exec LAB "+nodeName(name)))
			out = append(out, c)
		}
		if fileExists(dir, filepath.Join("_test", "signature", name+".default")) {
			old = append(old, name+".default")
		}
	}
	if len(old) > 0 {
		*notes = append(*notes, Note{filepath.Join(dir, "_test", "signature"), 0, fmt.Sprintf("%s not compared: "+
			"these are Netkit's (or Kathará's before 2019) builtin signatures, text dumps of ifconfig or ip addr, route, netstat and ps "+
			"that were compared whole with diff, kernel threads, MAC addresses and interface numbers included, which no container reproduces; "+
			"Kathará's later builtin signatures (NODE.builtin, JSON) are compared", strings.Join(old, ", "))})
	}
	return out
}

// fileExists tells whether name is a regular file beneath dir, and isDir
// whether it is a directory there: a link that leads out of the lab's
// directory is neither.
// frrStart finds a startup line that starts FRR or Quagga's daemons:
// systemctl start frr, service quagga start, /etc/init.d/zebra start, ...
var frrStart = regexp.MustCompile(`(?m)^[^#\n]*(\b(frr|quagga|zebra)\b|init\.d/(bgpd|ospfd|ospf6d|ripd|ripngd|isisd)\b)`)

// runsFRR tells whether a device runs FRR: its folder brings FRR's or
// Quagga's configuration (NODE/etc/frr, NODE/etc/quagga), or its startup
// (or the lab's shared.startup) starts the daemons.
func runsFRR(dir, node string) bool {
	if isDir(dir, filepath.Join(node, "etc", "frr")) || isDir(dir, filepath.Join(node, "etc", "quagga")) {
		return true
	}
	root, err := os.OpenRoot(dir) // a link out of the lab's folder is not read
	if err != nil {
		return false
	}
	defer root.Close()
	for _, f := range []string{node + ".startup", "shared.startup"} {
		if data, err := root.ReadFile(f); err == nil && frrStart.Match(data) {
			return true
		}
	}
	return false
}

func fileExists(dir, name string) bool {
	st, err := statBeneath(dir, name)
	return err == nil && st.Mode().IsRegular()
}

func isDir(dir, name string) bool {
	st, err := statBeneath(dir, name)
	return err == nil && st.IsDir()
}

func statBeneath(dir, name string) (os.FileInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Stat(name)
}

// captureImage tells whether a device only watches packets (Kathará labs'
// wireshark device), which netlab capture does instead.
func captureImage(image string) bool {
	return strings.Contains(strings.Split(image, ":")[0], "wireshark")
}

// sortedKeys lists a map's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// networkName keeps a collision domain's name where netlab takes it.
func networkName(dom string) string {
	s := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(dom, "_")
	if s == "" || !regexp.MustCompile(`^[A-Za-z0-9]`).MatchString(s) {
		s = "cd" + s
	}
	return s
}

func nodeName(name string) string {
	return strings.Trim(nameOK.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// ErrNotKathara says a directory holds no lab.conf.
var ErrNotKathara = errors.New("not a Kathará lab (no lab.conf)")
