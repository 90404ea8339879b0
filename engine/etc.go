package engine

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/netlab/netlab/planner"
)

// A node's /etc/hosts and /etc/resolv.conf are files netlab writes on the
// host, in the node's own folder of the lab's state directory, and binds
// over the node's: on every runtime, so that the lab's names and name
// servers are the same whichever runs it, a node's edits to them stay
// across a reboot, and up rewrites them in place (EnsureHosts).

// NodeStateDir is a node's folder in the lab's state directory: on the
// runc runtime its bundle, on Docker the files bound over its /etc.
func NodeStateDir(lab, node string) string { return filepath.Join(StateDir, lab, node) }

// WriteEtcFiles writes the node's hosts and resolv.conf into dir, which
// it makes.
func WriteEtcFiles(dir string, c *planner.Container, hosts []planner.Host) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range map[string]string{"hosts": HostsFile(hosts), "resolv.conf": ResolvConf(c.DNS, c.DNSSearch)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hostsHeader is what Docker writes at the top of a container's /etc/hosts.
const hostsHeader = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// HostsFile is a node's /etc/hosts as Docker writes it for the lab's
// names (ExtraHosts, a line a name), so that a fresh container's file
// compares equal.
func HostsFile(hosts []planner.Host) string {
	var b strings.Builder
	b.WriteString(hostsHeader)
	for _, h := range hosts {
		for _, n := range h.Names {
			b.WriteString(h.Addr.String() + "\t" + n + "\n")
		}
	}
	return b.String()
}

// WriteHostsFile writes the hosts file at file (a node's /etc/hosts, as
// its runtime reaches it) in place: the node sees that inode through a
// bind mount, which a rename would leave behind. changed is false when it
// already said that. Every runtime's EnsureHosts goes through it.
func WriteHostsFile(file string, hosts []planner.Host) (changed bool, err error) {
	want := HostsFile(hosts)
	if have, err := os.ReadFile(file); err == nil && string(have) == want {
		return false, nil
	}
	if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// ResolvConf is a node's /etc/resolv.conf as Docker writes it for a
// container without a network: the node's dns and dns_search, otherwise
// the host's, without the loopback name servers that the node cannot
// reach (Google's public ones when none is left).
func ResolvConf(dns, search []string) string {
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
	return b.String()
}
