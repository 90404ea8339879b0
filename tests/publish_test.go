package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// retry calls get until it returns a string with want in it, for up to five
// seconds (a node's server starts only once the node is wired), and returns
// the last answer.
func retry(get func() string, want string) string {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s := get(); strings.Contains(s, want) || time.Now().After(deadline) {
			return s
		}
	}
}

// httpGet fetches / from addr on the host.
func httpGet(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// udpAsk sends msg to addr on the host from a socket of its own and returns
// the reply.
func udpAsk(addr, msg string) string {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return err.Error()
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return err.Error()
	}
	return string(buf[:n])
}

func published(t *testing.T, l *lab) string {
	t.Helper()
	r := netlab(t, "status", l.name, "--json")
	var st map[string][]struct{ Published []string }
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st[l.name]) != 1 {
		t.Fatalf("netlab status --json: %v\n%s", err, r.stdout)
	}
	return fmt.Sprint(st[l.name][0].Published)
}

// Servers bound only to a lab address, IPv4 or IPv6, not to the loopback:
// the forwarder finds them after the loopback refuses.
func TestPublishedPortToLabAddress(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
networks: {lan: {}}
nodes:
  web:
    interfaces: {eth0: {network: lan, address: [10.51.1.20/24, "fd00:51::20/64"]}}
    command: ["sh", "-c", "mkdir -p /www4 /www6 && echo hello4 > /www4/index.html && echo hello6 > /www6/index.html && httpd -p [fd00:51::20]:8081 -h /www6 && exec httpd -f -p 10.51.1.20:8080 -h /www4"]
    publish: ["127.0.0.1:24180:8080", "127.0.0.1:24181:8081/tcp"]
`)
	for addr, want := range map[string]string{"127.0.0.1:24180": "hello4", "127.0.0.1:24181": "hello6"} {
		if got := retry(func() string { return httpGet(addr) }, want); !strings.HasSuffix(strings.TrimSpace(got), want) {
			t.Errorf("%s answered %q", addr, got)
		}
	}
	// The server does not listen on the node's loopback: the port reached
	// it at the lab address, not by chance.
	if out, _ := l.exec("web", "wget", "-q", "-T", "2", "-O", "-", "http://127.0.0.1:8080/"); strings.Contains(out, "hello") {
		t.Fatalf("the server answers on the node's loopback too: %q", out)
	}
	if got := published(t, l); got != "[127.0.0.1:24180/tcp 127.0.0.1:24181/tcp]" {
		t.Errorf("status shows published ports %s", got)
	}
	if r := netlab(t, "up", l.file); !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second up changed something:\n%s%s", r.stdout, r.stderr)
	}
	if r := netlab(t, "plan", l.file); !strings.Contains(r.stdout, "publish 127.0.0.1:24180/tcp -> port 8080 at 127.0.0.1, else ::1, else 10.51.1.20, else fd00:51::20") {
		t.Errorf("plan does not list where the port is dialled:\n%s", r.stdout)
	}
	// Another node port behind the same host port: up replaces the forwarder.
	body, _ := os.ReadFile(l.file)
	os.WriteFile(l.file, []byte(strings.Replace(string(body), `"127.0.0.1:24180:8080"`, `"127.0.0.1:24180:8081"`, 1)), 0o644)
	if r := netlab(t, "up", l.file); r.code != 0 || !strings.Contains(r.stderr, "done publish:web:24180/tcp") || !strings.Contains(r.stderr, "ok   publish:web:24181/tcp") {
		t.Errorf("up with another node port:\n%s%s", r.stdout, r.stderr)
	}
	if got := httpGet("127.0.0.1:24180"); !strings.HasSuffix(strings.TrimSpace(got), "hello6") {
		t.Errorf("after the change 127.0.0.1:24180 answered %q", got)
	}
}

// A UDP echo server bound to the node's lab address, published beside a TCP
// port of the same number: each client gets its own replies.
func TestPublishedUDPPort(t *testing.T) {
	parallel(t)
	l := up(t, `networks: {lan: {}}
nodes:
  dns:
    image: netlab/host
    interfaces: {eth0: {network: lan, address: 10.51.2.20/24}}
    command: ["sh", "-c", "mkdir -p /www && echo tcp-hello > /www/index.html && busybox httpd -p 10.51.2.20:53 -h /www && exec perl -MIO::Socket::INET -e '$$s = IO::Socket::INET->new(LocalAddr => q(10.51.2.20:53), Proto => q(udp)) or die qq(udp: $$!); while (defined $$s->recv($$m, 2048)) { $$s->send(qq(echo $$m)) }'"]
    publish: ["24253:53/udp", "127.0.0.1:24253:53/tcp"]
`)
	if got := retry(func() string { return udpAsk("127.0.0.1:24253", "ping") }, "echo ping"); got != "echo ping" {
		t.Fatalf("udp 127.0.0.1:24253 answered %q", got)
	}
	// Clients at once, each from its own port: every reply goes to the
	// client that asked.
	answers := make(chan string, 8)
	for i := range 8 {
		go func() { answers <- fmt.Sprintf("%d %s", i, udpAsk("127.0.0.1:24253", fmt.Sprintf("client%d", i))) }()
	}
	for range 8 {
		a := <-answers
		var i int
		var got string
		fmt.Sscanf(a, "%d", &i)
		got = strings.SplitN(a, " ", 2)[1]
		if want := fmt.Sprintf("echo client%d", i); got != want {
			t.Errorf("client %d got %q, want %q", i, got, want)
		}
	}
	if got := retry(func() string { return httpGet("127.0.0.1:24253") }, "tcp-hello"); !strings.Contains(got, "tcp-hello") {
		t.Errorf("tcp 127.0.0.1:24253 answered %q", got)
	}
	// A client that keeps its socket across a restart of the node is heard
	// in the node's new namespace once up has rewired it.
	c, err := net.Dial("udp", "127.0.0.1:24253")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func(msg string) string {
		c.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(c, msg)
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		return string(buf[:n])
	}
	if got := retry(func() string { return ask("before") }, "echo before"); got != "echo before" {
		t.Fatalf("before the restart: %q", got)
	}
	l.restart("dns")
	if r := netlab(t, "up", l.file); r.code != 0 {
		t.Fatalf("up after restart: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := retry(func() string { return udpAsk("127.0.0.1:24253", "new") }, "echo new"); got != "echo new" {
		t.Fatalf("a new client after the restart: %q", got)
	}
	if got := ask("after"); got != "echo after" { // once: no datagram goes to the old namespace
		t.Errorf("the old client after the restart: %q", got)
	}
	if got := published(t, l); got != "[127.0.0.1:24253/udp 127.0.0.1:24253/tcp]" {
		t.Errorf("status shows published ports %s", got)
	}
	if r := netlab(t, "up", l.file); !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("second up changed something:\n%s%s", r.stdout, r.stderr)
	}
}
