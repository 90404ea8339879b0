package tests

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshKey makes a key pair: the signer and its authorized_keys line.
func sshKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, ssh.MarshalAuthorizedKey(signer.PublicKey())
}

// sshRun runs cmd through the ssh entry at addr as root with key, until it
// answers (the entry's server starts once the node is up) or 20 s pass.
func sshRun(t *testing.T, addr string, key ssh.Signer, cmd string) (string, error) {
	t.Helper()
	conf := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	var c *ssh.Client
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if c, err = ssh.Dial("tcp", addr, conf); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	var out, errs bytes.Buffer // apart: the session writes both at once
	s.Stdout, s.Stderr = &out, &errs
	err = s.Run(cmd)
	return out.String() + errs.String(), err
}

// TestSSHEntryPerGroup: ssh_entry gives each group a jump node on a host
// port; a group's key logs in there and reaches that group's nodes by name
// and no other's; another group's key is refused; and over the management
// network only the jump node reaches a node's ssh server.
func TestSSHEntryPerGroup(t *testing.T) {
	parallel(t)
	needImages(t, "netlab/host", "netlab/router")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	key1, pub1 := sshKey(t)
	key2, pub2 := sshKey(t)
	for g, pub := range map[string][]byte{"1": pub1, "2": pub2} {
		if err := os.WriteFile(filepath.Join(dir, "keys", g+".pub"), pub, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := 20000 + os.Getpid()%20000
	l := &lab{t: t, name: labName(t)}
	l.file = filepath.Join(dir, "lab.yaml")
	body := fmt.Sprintf(`name: %s
defaults: {image: netlab/host}
networks: {lan: {subnet: 10.61.0.0/24}}
nodes:
  r1: {image: netlab/router, group: 1, forward: true, interfaces: {eth0: {network: lan}}}
  h1: {group: 1, interfaces: {eth0: {network: lan}}}
  h2: {group: 2, interfaces: {eth0: {network: lan}}}
ssh_entry: {port: %d, keys: keys}
`, l.name, base)
	if err := os.WriteFile(l.file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.down() })
	// Up twice: the second rewrites every node's /etc/hosts to the lab's
	// names, which must not take the group's nodes from its entry.
	for range 2 {
		if r := netlab(t, "up", l.file); r.code != 0 {
			t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	entry1 := net.JoinHostPort("127.0.0.1", fmt.Sprint(base+1))

	out, err := sshRun(t, entry1, key1, "cat /etc/motd; goto h1 hostname; goto r1 hostname")
	if err != nil || !strings.Contains(out, "\nh1\n") || !strings.Contains(out, "\nr1\n") || !strings.Contains(out, "  h1") {
		t.Fatalf("group 1's entry with group 1's key: %v\n%s", err, out)
	}
	if out, err := sshRun(t, entry1, key1, "goto h2 hostname"); err == nil || strings.Contains(out, "\nh2") {
		t.Errorf("group 1's entry reached group 2's node h2: %v\n%s", err, out)
	}
	if out, err := sshRun(t, entry1, key2, "hostname"); err == nil {
		t.Errorf("group 1's entry let group 2's key in:\n%s", out)
	}
	if out, err := sshRun(t, net.JoinHostPort("127.0.0.1", fmt.Sprint(base+2)), key2, "goto h2 hostname"); err != nil || !strings.Contains(out, "h2") {
		t.Errorf("group 2's entry with group 2's key: %v\n%s", err, out)
	}

	// The management network: the jump node reaches h1's ssh server, r1
	// (on the same network) does not.
	h1 := managementAddr(t, l, "h1")
	if out, code := l.exec("ssh-1", "nc", "-z", "-w", "2", h1, "22"); code != 0 {
		t.Errorf("the jump node cannot reach h1's ssh server at %s: exit %d %s", h1, code, out)
	}
	if out, code := l.exec("r1", "nc", "-z", "-w", "2", h1, "22"); code == 0 {
		t.Errorf("r1 reached h1's ssh server over the management network: %s", out)
	}
	// Another group routing to the management network through r1: r1
	// forwards nothing onto it, and its own ssh server takes nothing that
	// came in on another interface.
	r1 := managementAddr(t, l, "r1")
	r1Lan := strings.TrimSpace(mustExec(t, l, "r1", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1"))
	mustExec(t, l, "h2", "ip", "route", "add", "100.64.0.0/24", "via", r1Lan)
	for _, to := range []string{h1, r1} {
		if out, code := l.exec("h2", "nc", "-z", "-w", "2", to, "22"); code == 0 {
			t.Errorf("h2 (group 2) reached %s's ssh server through r1: %s", to, out)
		}
	}
	// And h1's ssh server is not on its lab address.
	lanAddr := strings.TrimSpace(mustExec(t, l, "h1", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1"))
	if out, code := l.exec("r1", "nc", "-z", "-w", "2", lanAddr, "22"); code == 0 {
		t.Errorf("h1's ssh server answers on its lab address %s: %s", lanAddr, out)
	}
}

// managementAddr is node's address on its group's management network.
func managementAddr(t *testing.T, l *lab, node string) string {
	t.Helper()
	return strings.TrimSpace(mustExec(t, l, node, "sh", "-c", "ip -4 -o addr show ssh | awk '{print $4}' | cut -d/ -f1"))
}

func mustExec(t *testing.T, l *lab, node string, cmd ...string) string {
	t.Helper()
	out, code := l.exec(node, cmd...)
	if code != 0 {
		t.Fatalf("%s on %s: exit %d\n%s", strings.Join(cmd, " "), node, code, out)
	}
	return out
}
