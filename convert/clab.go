package convert

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netlab/netlab/spec"
)

// IsClab tells whether file is a containerlab topology (*.clab.yml).
func IsClab(file string) bool {
	return strings.HasSuffix(file, ".clab.yml") || strings.HasSuffix(file, ".clab.yaml")
}

type clabNode struct {
	Kind  string            `yaml:"kind"`
	Image string            `yaml:"image"`
	Exec  []string          `yaml:"exec"`
	Binds []string          `yaml:"binds"`
	Env   map[string]string `yaml:"env"`
	Cmd   string            `yaml:"cmd"`

	line int
}

type clabTopo struct {
	Name     string    `yaml:"name"`
	Mgmt     yaml.Node `yaml:"mgmt"`
	Topology struct {
		Defaults clabNode            `yaml:"defaults"`
		Kinds    map[string]clabNode `yaml:"kinds"`
		Nodes    yaml.Node           `yaml:"nodes"`
	} `yaml:"topology"`
}

// ClabImages maps images containerlab labs use to netlab's offline ones.
var ClabImages = map[string]string{
	"frrouting/frr": "netlab/router",
	"alpine":        "netlab/host",
	"ubuntu":        "netlab/host",
	"debian":        "netlab/host",
	"busybox":       "netlab/tiny",
}

// Clab reads a containerlab topology with linux and bridge nodes and
// returns the equivalent netlab lab file. Bridge nodes become lab networks
// (netlab creates them; containerlab expects them to exist), linux nodes
// nodes, links links or network ports; exec commands run once the node is
// wired. The management network has no counterpart and is noted.
func Clab(file string) (yamlText []byte, notes []Note, err error) {
	data, err := spec.ReadFileSafely(file, int64(spec.MaxFileBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("read containerlab topology: %w", err)
	}
	if err := spec.CheckYAMLInput(data, file); err != nil {
		return nil, nil, &Error{Notes: []Note{{file, 0, err.Error()}}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, &Error{Notes: []Note{{file, 0, err.Error()}}}
	}
	var t clabTopo
	if err := root.Decode(&t); err != nil {
		return nil, nil, &Error{Notes: []Note{{file, 0, err.Error()}}}
	}
	var errs []Note
	if t.Mgmt.Kind != 0 {
		notes = append(notes, Note{file, t.Mgmt.Line, "mgmt is ignored: netlab has no management network (publish ports, or link the machine with host:IFNAME)"})
	}
	nodes := map[string]*clabNode{}
	var order []string
	if t.Topology.Nodes.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(t.Topology.Nodes.Content); i += 2 {
			k, v := t.Topology.Nodes.Content[i], t.Topology.Nodes.Content[i+1]
			n := &clabNode{}
			if err := v.Decode(n); err != nil {
				errs = append(errs, Note{file, v.Line, fmt.Sprintf("node %s: %v", k.Value, err)})
				continue
			}
			n.line = k.Line
			if n.Kind == "" {
				n.Kind = t.Topology.Defaults.Kind
			}
			kind := t.Topology.Kinds[n.Kind]
			if n.Image == "" {
				n.Image = kind.Image
			}
			if n.Image == "" {
				n.Image = t.Topology.Defaults.Image
			}
			switch n.Kind {
			case "linux", "bridge", "ovs-bridge":
			default:
				errs = append(errs, Note{file, k.Line, fmt.Sprintf("node %s is of kind %q: netlab runs linux nodes and bridges only; make it kind: linux with an image netlab can run", k.Value, n.Kind)})
			}
			nodes[k.Value] = n
			order = append(order, k.Value)
		}
	}
	links := [][2][2]string{}
	if l := linksNode(&root); l != nil {
		for _, item := range l.Content {
			var one struct {
				Endpoints []string `yaml:"endpoints"`
			}
			if err := item.Decode(&one); err != nil || len(one.Endpoints) != 2 {
				errs = append(errs, Note{file, item.Line, "a link has two endpoints: {endpoints: [\"a:eth1\", \"b:eth1\"]}"})
				continue
			}
			var ends [2][2]string
			ok := true
			for k, e := range one.Endpoints {
				node, iface, found := strings.Cut(e, ":")
				if !found || nodes[node] == nil {
					errs = append(errs, Note{file, item.Line, fmt.Sprintf("endpoint %q: not NODE:IF of a node of the topology", e)})
					ok = false
					continue
				}
				ends[k] = [2]string{node, iface}
			}
			if ok {
				links = append(links, ends)
			}
		}
	}
	if len(errs) > 0 {
		return nil, notes, &Error{Notes: errs}
	}
	out, err := renderClab(file, t.Name, nodes, order, links, &notes)
	if err != nil {
		return nil, notes, fmt.Errorf("write the converted lab: %w", err)
	}
	return out, notes, nil
}

// linksNode finds topology.links in the document.
func linksNode(root *yaml.Node) *yaml.Node {
	find := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	return find(find(root, "topology"), "links")
}

func isBridge(n *clabNode) bool { return n.Kind == "bridge" || n.Kind == "ovs-bridge" }

func renderClab(file, name string, nodes map[string]*clabNode, order []string, links [][2][2]string, notes *[]Note) ([]byte, error) {
	d := newDoc()
	abs, _ := filepath.Abs(file)
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".clab.yml"), ".clab.yaml")
	}
	set(d.root, key("name"), plain(nodeName(name)))
	d.root.Content[0].HeadComment = comments(
		"Converted by netlab convert from the containerlab topology "+abs+".",
		"linux nodes are nodes; bridge nodes are lab networks, which netlab creates;",
		"exec commands run once the node is wired. Binds are relative to this file.")
	ifaces := map[string][][2]*yaml.Node{} // node -> interface name, its mapping
	p2p := seq()
	for _, l := range links {
		a, z := l[0], l[1]
		na, nz := nodes[a[0]], nodes[z[0]]
		port := func(on [2]string, network string) {
			m := flow()
			if network != "" {
				set(m, key("network"), quoted(network))
			}
			ifaces[on[0]] = append(ifaces[on[0]], [2]*yaml.Node{key(on[1]), m})
		}
		switch {
		case isBridge(na) && isBridge(nz):
			*notes = append(*notes, Note{file, 0, fmt.Sprintf("a link between bridges %s and %s is left out: netlab joins nodes to networks", a[0], z[0])})
		case isBridge(na):
			port(z, a[0])
		case isBridge(nz):
			port(a, z[0])
		default:
			port(a, "")
			port(z, "")
			ends := push(p2p, flowSeq())
			push(ends, quoted(nodeName(a[0])+":"+a[1]))
			push(ends, quoted(nodeName(z[0])+":"+z[1]))
		}
	}
	var networks *yaml.Node
	for _, n := range order {
		if isBridge(nodes[n]) {
			if networks == nil {
				networks = set(d.root, key("networks"), block())
			}
			set(networks, quotedKey(n), flow())
		}
	}
	all := set(d.root, key("nodes"), block())
	for _, nn := range order {
		n := nodes[nn]
		if isBridge(n) {
			continue
		}
		node := set(all, key(nodeName(nn)), block())
		img := n.Image
		repo := strings.Split(img, ":")[0]
		if m, ok := ClabImages[repo]; ok {
			img = m
			*notes = append(*notes, Note{file, n.line, fmt.Sprintf("%s: image %s runs as %s (built offline)", nn, n.Image, m)})
		}
		if img == "" {
			img = "netlab/host"
		}
		set(node, key("image"), plain(img))
		if list := ifaces[nn]; len(list) > 0 {
			slices.SortFunc(list, func(a, b [2]*yaml.Node) int { return strings.Compare(a[0].Value, b[0].Value) })
			m := set(node, key("interfaces"), block())
			for _, kv := range list {
				set(m, kv[0], kv[1])
			}
		}
		if len(n.Binds) > 0 {
			vs := set(node, key("volumes"), flowSeq())
			for _, v := range n.Binds {
				push(vs, quoted(v))
			}
		}
		if len(n.Env) > 0 {
			set(node, key("env"), flowMapOf(n.Env))
		}
		switch {
		case len(n.Exec) > 0:
			after := "exec sleep infinity"
			switch {
			case n.Cmd != "":
				after = "exec " + n.Cmd
			case img == "netlab/router":
				after = "exec /usr/local/sbin/netlab-start router"
			}
			set(node, key("command"), quoted(strings.Join(append(slices.Clone(n.Exec), after), "; ")))
		case n.Cmd != "":
			set(node, key("command"), quoted(n.Cmd))
		}
	}
	if len(p2p.Content) > 0 {
		set(d.root, key("links"), p2p)
	}
	return d.bytes()
}
