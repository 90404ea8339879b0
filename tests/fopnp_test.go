package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestFopnpPlayground brings up labs/fopnp.yaml (under the test's own lab
// name, on the file's host ports) and checks, from inside the nodes, what
// a reader of Foundations of Python Network Programming checks.
func TestFopnpPlayground(t *testing.T) {
	parallel(t)
	if err := exec.Command("docker", "image", "inspect", "fopnp/base", "fopnp/dns", "fopnp/ftp", "fopnp/mail", "fopnp/www").Run(); err != nil {
		if os.Getenv("NETLAB_E2E") == "1" {
			t.Fatal("fopnp images missing: make images")
		}
		t.Skip("fopnp images missing: make images")
	}
	if runtime == "kubernetes" {
		cfg := needKubeRuntime(t, "fopnp/base", "fopnp/dns", "fopnp/ftp", "fopnp/mail", "fopnp/www")
		if a := os.Getenv("NETLAB_KUBE_AGENT"); a == "1" || a == "pod" { // every pod wired through its host's agent, or its own
			needAgent(t, cfg)
		}
	}
	if left := leftovers("fopnp"); left != "" {
		t.Fatalf("a lab named fopnp is already here (%s), on the host ports the test's copy publishes: netlab down fopnp first", left)
	}
	// The book's code, as a reader mounts it: FOPNP_CODE=~/fopnp netlab up.
	code := t.TempDir()
	if err := os.WriteFile(code+"/README.md", []byte("fopnp code\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := upBundled(t, "fopnp", "FOPNP_CODE="+code)
	sh := func(node, cmd string) string {
		t.Helper()
		out, _ := l.exec(node, "sh", "-c", cmd)
		return strings.TrimSpace(out)
	}
	// Services start once their node is wired: wait for the last ones.
	waitFor(t, "mail's IMAP port", func() bool { return sh("h1", "nc -z -w 1 mail.example.com 993 && echo ok") == "ok" })

	t.Run("book", func(t *testing.T) {
		for _, node := range []string{"h1", "www", "backbone"} {
			if got := sh(node, "cat /fopnp/README.md"); got != "fopnp code" {
				t.Errorf("%s: /fopnp/README.md = %q, want the FOPNP_CODE directory's", node, got)
			}
		}
		if out := sh("h1", "route -n"); !strings.Contains(out, "0.0.0.0         192.168.1.1") {
			t.Errorf("route -n on h1 shows no default route via 192.168.1.1:\n%s", out)
		}
		if out := sh("h1", "netstat -tln"); !strings.Contains(out, ":22 ") {
			t.Errorf("netstat -tln on h1 shows no ssh listener:\n%s", out)
		}
		for addr, name := range map[string]string{"10.130.1.4": "www.example.com.", "10.130.1.1": "example.com."} {
			if got := sh("h1", "dig +short -x "+addr); got != name {
				t.Errorf("reverse name of %s = %q, want %s", addr, got, name)
			}
		}
	})

	t.Run("traceroute", func(t *testing.T) {
		out := sh("h1", "traceroute -n -q 1 -w 2 www.example.com")
		var hops []string
		for _, line := range strings.Split(out, "\n")[1:] {
			if f := strings.Fields(line); len(f) >= 2 {
				hops = append(hops, f[1])
			}
		}
		if got := strings.Join(hops, " "); got != "192.168.1.1 10.25.1.1 10.1.1.1 10.130.1.1 10.130.1.4" {
			t.Errorf("hops %s\n%s", got, out)
		}
		if out := sh("h1", "ping -c 1 -W 2 www.example.com"); !strings.Contains(out, "ttl=60") {
			t.Errorf("ping reply from www without TTL 60:\n%s", out)
		}
	})

	t.Run("nat", func(t *testing.T) {
		for node, want := range map[string]string{"h1": "10.25.1.65", "h4": "10.25.1.66"} {
			path := fmt.Sprintf("/from-%s-%d", node, time.Now().UnixNano())
			sh(node, "curl -s -o /dev/null http://www.example.com"+path)
			logLine := sh("www", "grep "+path+" /var/log/nginx/access.log")
			if !strings.HasPrefix(logLine, want+" ") {
				t.Errorf("www saw %s as %q, want %s", node, logLine, want)
			}
		}
		if sh("h1", "ping -c 1 -W 1 192.168.1.14 >/dev/null && echo reached") != "" {
			t.Error("h1 reached h4 (192.168.1.14), which is behind another modem")
		}
		if sh("www", "ping -c 1 -W 1 192.168.1.11 >/dev/null && echo reached") != "" {
			t.Error("www reached 192.168.1.11, a home behind NAT")
		}
	})

	t.Run("dns", func(t *testing.T) {
		for _, h := range []string{"h1", "h2", "h3", "h4"} {
			got := sh(h, "dig +short +search www; dig +short www.example.com; dig +short mail.example.com; dig +short MX example.com; grep nameserver /etc/resolv.conf")
			want := "10.130.1.4\n10.130.1.4\n10.130.1.3\n10 mail.example.com.\nnameserver 10.1.1.1"
			if got != want {
				t.Errorf("%s resolves:\n%s\nwant:\n%s", h, got, want)
			}
		}
	})

	t.Run("ports", func(t *testing.T) {
		for _, n := range []string{"h1", "h2", "h3", "h4", "modemA", "modemB", "isp", "backbone", "example", "ftp", "mail", "www"} {
			if sh(n, "nc -z -w 2 127.0.0.1 22 && echo open") != "open" {
				t.Errorf("ssh not listening on %s", n)
			}
		}
		for _, hp := range []string{"ftp:21", "ftp:23", "mail:25", "mail:110", "mail:143", "mail:993", "mail:995", "www:80", "www:443"} {
			h, p, _ := strings.Cut(hp, ":")
			if sh("h1", "nc -z -w 2 "+h+".example.com "+p+" && echo open") != "open" {
				t.Errorf("%s is not open from h1", hp)
			}
		}
		// HTTPS verifies against the playground CA, which every node trusts.
		if out := sh("h1", "curl -sS https://www.example.com/"); !strings.Contains(out, "Welcome to www.example.com") {
			t.Errorf("HTTPS from h1: %s", out)
		}
	})

	t.Run("mail", func(t *testing.T) {
		subject := fmt.Sprintf("netlab-test-%d", time.Now().UnixNano())
		send := fmt.Sprintf(`python3 -c "import smtplib; s = smtplib.SMTP('mail.example.com', 25, timeout=10); s.sendmail('root@h1.example.com', ['brandon@example.com'], 'Subject: %s\n\nhello from h1\n'); s.quit()"`, subject)
		if out := sh("h1", send); out != "" {
			t.Fatalf("SMTP from h1: %s", out)
		}
		read := fmt.Sprintf(`python3 -c "
import imaplib, sys
m = imaplib.IMAP4_SSL('mail.example.com')
m.login('brandon', 'abc123')
m.select('INBOX')
n = len(m.search(None, 'ALL')[1][0].split())
found = m.search(None, 'SUBJECT', '%s')[1][0]
print(n, 'found' if found else 'missing')
"`, subject)
		var out string
		waitFor(t, "the mail in brandon's IMAP inbox", func() bool {
			out = sh("h1", read)
			return strings.HasSuffix(out, "found")
		})
		if !strings.HasPrefix(out, "4 ") {
			t.Errorf("brandon's inbox: %s (want the 3 sample messages and the new one)", out)
		}
	})

	t.Run("ftp upload", func(t *testing.T) {
		name := fmt.Sprintf("up-%d.txt", time.Now().UnixNano())
		out := sh("h1", fmt.Sprintf(`python3 -c "
import ftplib, io
f = ftplib.FTP('ftp.example.com', timeout=10)
f.login('brandon', 'abc123')
f.storbinary('STOR uploads/%s', io.BytesIO(b'hi from h1'))
f.quit()"`, name))
		if got := sh("ftp", "cat /home/brandon/uploads/"+name); got != "hi from h1" {
			t.Errorf("brandon's upload from h1: %q %s", got, out)
		}
	})

	t.Run("ssh from the host", func(t *testing.T) {
		key := "/var/cache/netlab/fopnp/pki/id_ed25519"
		out, err := exec.Command("ssh", "-i", key, "-p", "2201", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "root@127.0.0.1", "hostname").CombinedOutput()
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "h1") {
			t.Errorf("ssh -p 2201 root@127.0.0.1: %v %s", err, out)
		}
		// And root moves between nodes with the shared key.
		if got := sh("h1", "ssh -o BatchMode=yes mail.example.com hostname"); got != "mail.example.com" {
			t.Errorf("ssh from h1 to mail: %q", got)
		}
	})

	// The lab file's own checks say the same, for a reader to run.
	t.Run("netlab check", func(t *testing.T) {
		if r := netlab(t, "check", l.file); r.code != 0 {
			t.Errorf("netlab check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// waitFor polls cond for up to 60 s: services start after their wiring,
// and later than that on a busy machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
