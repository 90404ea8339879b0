package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sshLab = `name: g
defaults: {image: netlab/host}
networks: {lan: {subnet: 10.0.0.0/24}}
nodes:
  r3: {group: 3, interfaces: {eth0: {network: lan}}}
  h3: {group: 3, interfaces: {eth0: {network: lan}}}
  r12: {group: 12, interfaces: {eth0: {network: lan}}}
  x: {interfaces: {eth0: {network: lan}}}
ssh_entry: {port: 2000, keys: keys}
`

// sshDir writes the lab file and a keys file per group; it returns the lab
// file's path.
func sshDir(t *testing.T, lab string, groups ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if err := os.WriteFile(filepath.Join(dir, "keys", g+".pub"), []byte("ssh-ed25519 AAAA student\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(file, []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// Every group gets a jump node on a port of its number, a management
// network isolated but for ssh from the jump node, and each of its nodes
// an interface there whose address its ssh server listens on.
func TestSSHEntryPerGroup(t *testing.T) {
	lab, err := Load(sshDir(t, sshLab, "3", "12"))
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]struct {
		port, subnet string
		nodes        string
	}{
		"3":  {"2003:22", "100.64.0.0/24", "h3=100.64.0.2 r3=100.64.0.3"},
		"12": {"2012:22", "100.64.1.0/24", "r12=100.64.1.2"},
	} {
		jump := lab.Nodes["ssh-"+g]
		if jump == nil {
			t.Fatalf("no jump node for group %s", g)
		}
		if got := strings.Join(jump.Publish, ","); got != want.port {
			t.Errorf("group %s publishes %s, want %s", g, got, want.port)
		}
		if got := jump.Env[SSHNodesEnv]; got != want.nodes {
			t.Errorf("group %s's jump node knows %q, want %q", g, got, want.nodes)
		}
		if got := jump.Volumes; len(got) != 1 || got[0] != "./keys/"+g+".pub:"+SSHKeysPath+":ro" {
			t.Errorf("group %s's keys mount %v", g, got)
		}
		nw := lab.Networks["ssh-"+g]
		if nw == nil || nw.Subnet != want.subnet || !nw.Isolated || len(nw.Allow) != 1 || nw.Allow[0].From != "ssh-"+g || nw.Allow[0].PortMin != 22 {
			t.Errorf("group %s's management network: %+v", g, nw)
		}
		if jump.Group != "" {
			t.Errorf("the jump node is in group %q: the matrix would take it for a host of the AS", jump.Group)
		}
	}
	r3 := lab.Nodes["r3"]
	if i := r3.Interfaces[SSHInterface]; i == nil || i.Network != "ssh-3" || len(i.Addrs) != 1 || i.Addrs[0].String() != "100.64.0.3/24" {
		t.Errorf("r3's management interface: %+v", i)
	}
	if r3.Env[SSHListenEnv] != "100.64.0.3" || r3.Sysctls["net.ipv4.ip_nonlocal_bind"] != "1" {
		t.Errorf("r3 env %v sysctls %v", r3.Env, r3.Sysctls)
	}
	if x := lab.Nodes["x"]; x.Interfaces[SSHInterface] != nil || x.Env[SSHListenEnv] != "" {
		t.Errorf("a node in no group got an entry: %+v", x)
	}
}

// Groups that are not all numbers take ports in their order.
func TestSSHEntryNamedGroups(t *testing.T) {
	src := strings.Replace(strings.Replace(sshLab, "group: 3,", "group: red,", 2), "group: 12,", "group: blue,", 1)
	lab, err := Load(sshDir(t, src, "red", "blue"))
	if err != nil {
		t.Fatal(err)
	}
	if got := lab.Nodes["ssh-blue"].Publish[0]; got != "2001:22" {
		t.Errorf("blue: %s", got)
	}
	if got := lab.Nodes["ssh-red"].Publish[0]; got != "2002:22" {
		t.Errorf("red: %s", got)
	}
}

// What cannot be made is said at ssh_entry, and nothing is loaded.
func TestSSHEntryProblems(t *testing.T) {
	for _, tc := range []struct {
		name, lab string
		groups    []string
		want      string
	}{
		{"no keys", sshLab, []string{"3"}, "group 12 has no keys: put its students' public keys in"},
		{"no groups", strings.NewReplacer("group: 3, ", "", "group: 12, ", "").Replace(sshLab), nil, "no node has a group"},
		{"name taken", strings.Replace(sshLab, "  x:", "  ssh-3:", 1), []string{"3", "12"}, "node ssh-3 exists"},
		{"interface taken", strings.Replace(sshLab, "h3: {group: 3, interfaces: {eth0", "h3: {group: 3, interfaces: {ssh", 1), []string{"3", "12"}, "has an interface ssh"},
		{"port", strings.Replace(sshLab, "port: 2000", "port: 65530", 1), []string{"3", "12"}, "would listen on port 65542"},
		{"overlap", strings.Replace(sshLab, "10.0.0.0/24", "100.64.3.0/24", 1), []string{"3", "12"}, "overlaps network subnet 100.64.3.0/24"},
		{"subnet", strings.Replace(sshLab, "keys: keys", "keys: keys, subnet: 100.64.0.0/25", 1), []string{"3", "12"}, "is not an IPv4 prefix of /24 or wider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(sshDir(t, tc.lab, tc.groups...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "lab.yaml:9:") && !strings.Contains(err.Error(), "lab.yaml:6:") && !strings.Contains(err.Error(), "lab.yaml:7:") {
				t.Errorf("error %v does not point into the file", err)
			}
		})
	}
}
