// Package tests runs netlab end to end against the real kernel and Docker.
// It needs root and a Docker engine with the netlab/tiny image (make test
// sets them up). Without them the tests are skipped, unless NETLAB_E2E=1
// (as in CI), when they fail.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var netlabBin string

func TestMain(m *testing.M) {
	why := prerequisites()
	if why != "" {
		if os.Getenv("NETLAB_E2E") == "1" {
			fmt.Fprintln(os.Stderr, "end-to-end tests cannot run:", why)
			os.Exit(1)
		}
		fmt.Println("skipping end-to-end tests:", why)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "netlab-e2e")
	if err != nil {
		panic(err)
	}
	netlabBin = filepath.Join(dir, "netlab")
	build := exec.Command("go", "build", "-o", netlabBin, "../cmd/netlab")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build netlab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func prerequisites() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if err := exec.Command("docker", "image", "inspect", "netlab/tiny").Run(); err != nil {
		return "no Docker engine or no netlab/tiny image (scripts/setup.sh makes both)"
	}
	return ""
}

// result of running netlab.
type result struct {
	code           int
	stdout, stderr string
}

func netlab(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, netlabBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("netlab %v: %v", args, err)
	}
	return r
}

// lab is a lab brought up for one test.
type lab struct {
	t    *testing.T
	name string
	file string
}

// labName is unique per test and process, and a valid label.
func labName(t *testing.T) string {
	base := strings.ToLower(strings.NewReplacer("/", "", "_", "", "Test", "").Replace(t.Name()))
	if len(base) > 20 {
		base = base[:20]
	}
	return fmt.Sprintf("%s%d", base, os.Getpid()%10000)
}

// writeLab writes a lab file whose name: line is set to a unique name.
func writeLab(t *testing.T, name, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte("name: "+name+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// up brings a lab up and registers its removal, checked to leave nothing,
// whether the test passes or fails.
func up(t *testing.T, body string) *lab {
	t.Helper()
	l := &lab{t: t, name: labName(t)}
	l.file = writeLab(t, l.name, body)
	t.Cleanup(func() { l.down() })
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return l
}

// stopWatcher stops the lab's watcher, for tests of what up repairs by
// hand; their ups then run with --no-watch.
func (l *lab) stopWatcher() {
	l.t.Helper()
	data, err := os.ReadFile("/run/netlab/" + l.name + "/watch.pid")
	if err != nil {
		l.t.Fatalf("no watcher: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// down removes the lab and checks that nothing of it is left.
func (l *lab) down() {
	t := l.t
	t.Helper()
	if r := netlab(t, "down", l.name); r.code != 0 {
		t.Errorf("netlab down %s: exit %d\n%s%s", l.name, r.code, r.stdout, r.stderr)
	}
	if left := leftovers(t, l.name); left != "" {
		t.Errorf("down %s left: %s", l.name, left)
	}
}

// leftovers lists what of a lab is still on the host: containers, host
// interfaces, firewall rules, run directory, forwarder, relay and DHCP
// server processes.
func leftovers(t *testing.T, name string) string {
	var left []string
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=netlab.lab="+name).Output()
	if s := strings.TrimSpace(string(out)); s != "" {
		left = append(left, "containers "+strings.ReplaceAll(s, "\n", " "))
	}
	out, _ = exec.Command("ip", "-d", "link", "show").Output()
	if strings.Contains(string(out), "alias netlab:"+name+":") {
		left = append(left, "host interfaces")
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		out, _ = exec.Command(tool, "-S", "FORWARD").Output()
		if strings.Contains(string(out), "netlab:"+name+":") {
			left = append(left, tool+" rules")
		}
	}
	if out, _ := exec.Command("nft", "list", "tables", "bridge").Output(); strings.Contains(string(out), "netlab-"+name+"\n") {
		left = append(left, "nftables table bridge netlab-"+name)
	}
	if _, err := os.Stat("/run/netlab/." + name + ".lock"); err == nil {
		left = append(left, "/run/netlab/."+name+".lock")
	}
	if _, err := os.Stat("/run/netlab/" + name); err == nil {
		left = append(left, "/run/netlab/"+name)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, _ := os.ReadFile(p)
		args := strings.Split(string(cmd), "\x00")
		if i := slices.Index(args, "--container"); len(args) > 1 && args[1] == "_forward" && i > 0 && i+1 < len(args) && strings.HasPrefix(args[i+1], name+"_") {
			left = append(left, "forwarder "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 3 && args[1] == "_watch" && args[3] == name {
			left = append(left, "watcher "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 1 && args[1] == "_relay" && strings.Contains(string(cmd), "/run/netlab/"+name+"/") {
			left = append(left, "relay "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 1 && args[1] == "_dhcpd" && strings.Contains(string(cmd), "/run/netlab/"+name+"/") {
			left = append(left, "dhcp server "+filepath.Base(filepath.Dir(p)))
		}
	}
	return strings.Join(left, "; ")
}

// exec runs a command in a node and returns its output and exit code.
func (l *lab) exec(node string, cmd ...string) (string, int) {
	l.t.Helper()
	args := append([]string{"exec", l.name + "_" + node}, cmd...)
	out, err := exec.Command("docker", args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("docker %v: %v", args, err)
	}
	return string(out), 0
}

// ping pings from a node, with retries for neighbour discovery.
func (l *lab) ping(node, addr string) bool {
	l.t.Helper()
	family := "-4"
	if strings.Contains(addr, ":") {
		family = "-6" // busybox and iputils both take it; iputils has no ping6
	}
	for i := 0; i < 3; i++ {
		if _, code := l.exec(node, "ping", family, "-c", "1", "-W", "2", addr); code == 0 {
			return true
		}
	}
	return false
}

func (l *lab) mustPing(node, addr string) {
	l.t.Helper()
	if !l.ping(node, addr) {
		l.t.Errorf("%s cannot ping %s", node, addr)
	}
}

// httpGet fetches a URL path with nc from a node (busybox's static wget
// crashes), returning the body.
func (l *lab) httpGet(node, host, port, path string) string {
	l.t.Helper()
	// The server starts once its node is wired, so give it a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if body := l.httpGetOnce(node, host, port, path); body != "" || time.Now().After(deadline) {
			return body
		}
	}
}

func (l *lab) httpGetOnce(node, host, port, path string) string {
	out, _ := l.exec(node, "sh", "-c", fmt.Sprintf(`printf 'GET %s HTTP/1.0\r\n\r\n' | nc -w 3 %s %s`, path, host, port))
	out = strings.ReplaceAll(out, "\r\n", "\n")
	i := strings.Index(out, "\n\n")
	if i < 0 {
		return ""
	}
	// httpd listens on IPv6 too: IPv4 clients show as [::ffff:a.b.c.d].
	body := strings.TrimSpace(out[i+2:])
	return strings.TrimPrefix(strings.Trim(body, "[]"), "::ffff:")
}

// A web server whose /cgi-bin/ip answers with the client's address.
const webServer = `["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $$REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"]`
