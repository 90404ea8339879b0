package planner

import (
	"path/filepath"
	"strings"

	"github.com/netlab/netlab/frr"
	"github.com/netlab/netlab/spec"
)

// volumes resolves bind mounts' relative host paths ("./www:/srv") against
// the lab file's folder, as docker compose does. Named volumes stay.
func volumes(lab *spec.Lab, n *spec.Node) []string {
	var out []string
	for _, v := range n.Volumes {
		src, rest, _ := strings.Cut(v, ":")
		if strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") || src == "." {
			src = filepath.Join(filepath.Dir(lab.File), src)
		}
		out = append(out, src+":"+rest)
	}
	return out
}

// sysctls are the node's own plus forwarding, set explicitly either way
// (a new namespace must not inherit it), and IPv6 switched on where the node
// has IPv6 addresses, also for interfaces made after the container starts.
// Docker applies them inside the node's namespace at every start.
func sysctls(n *spec.Node) map[string]string {
	out := map[string]string{"net.ipv4.ip_forward": "0"}
	if n.Forward {
		out["net.ipv4.ip_forward"] = "1"
	}
	for _, i := range n.Interfaces {
		if len(i.Proxied) > 0 {
			out["net.ipv6.conf.all.proxy_ndp"] = "1" // or'ed with each interface's; set before the interfaces exist
		}
		if i.SLAAC {
			// Interfaces made after the start take the defaults: accept
			// router advertisements (2: also when forwarding) and make
			// addresses from their prefixes.
			out["net.ipv6.conf.all.disable_ipv6"] = "0"
			out["net.ipv6.conf.default.disable_ipv6"] = "0"
			out["net.ipv6.conf.default.accept_ra"] = "2"
			out["net.ipv6.conf.default.autoconf"] = "1"
			out["net.ipv6.conf.all.forwarding"] = out["net.ipv4.ip_forward"]
		}
		for _, a := range i.Addrs {
			if a.Addr().Is6() {
				out["net.ipv6.conf.all.disable_ipv6"] = "0"
				out["net.ipv6.conf.default.disable_ipv6"] = "0"
				out["net.ipv6.conf.all.forwarding"] = out["net.ipv4.ip_forward"]
			}
		}
	}
	for k, v := range n.Sysctls {
		out[k] = v
	}
	return out
}

// nodeFiles are the files netlab writes into a node when it is created:
// FRR's configuration and radvd's.
func nodeFiles(n *spec.Node) map[string]string {
	files := frr.Files(n)
	if conf := frr.Radvd(n); conf != "" {
		if files == nil {
			files = map[string]string{}
		}
		files[frr.RadvdPath] = conf
	}
	return files
}

// FileLabel is the lab file's absolute path, as the containers record it.
func (p *Plan) FileLabel() string { return absPath(p.File) }

// absPath is the lab file's absolute path, recorded on every container so
// that start, restart and ls find it from any directory.
func absPath(file string) string {
	if file == "" || filepath.IsAbs(file) {
		return file
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return file
}
