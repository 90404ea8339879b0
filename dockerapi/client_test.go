package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ server, want string }{
		{"", "1.41"}, {"1.41", "1.41"}, {"1.43", "1.43"}, {"1.47", "1.47"}, {"1.51", "1.47"}, {"1.100", "1.47"},
	} {
		if got := Negotiate(c.server); got != c.want {
			t.Errorf("Negotiate(%q) = %q, want %q", c.server, got, c.want)
		}
	}
}

func TestCheckRefs(t *testing.T) {
	for _, id := range []string{"abc123", "lab_node", "a.b-c"} {
		if err := checkID(id); err != nil {
			t.Errorf("checkID(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "../x", "a/b", "a?b", "-a", "a b", "a%2F"} {
		if checkID(id) == nil {
			t.Errorf("checkID(%q) accepted", id)
		}
	}
	for _, ref := range []string{"netlab/tiny", "fopnp/www:latest", "sha256:0123abcd", "reg.example:5000/a/b@sha256:00"} {
		if err := checkImage(ref); err != nil {
			t.Errorf("checkImage(%q): %v", ref, err)
		}
	}
	for _, ref := range []string{"", "/abs", "a/../b", "../b", "a/./b", "a?x", "a#b", "a b"} {
		if checkImage(ref) == nil {
			t.Errorf("checkImage(%q) accepted", ref)
		}
	}
}

func frame(stream byte, s string) []byte {
	h := make([]byte, 8, 8+len(s))
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

func TestDemux(t *testing.T) {
	in := bytes.Join([][]byte{frame(1, "out1\n"), frame(2, "err\n"), frame(1, "out2\n"), frame(1, "")}, nil)
	var out, errw bytes.Buffer
	if err := Demux(&out, &errw, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out1\nout2\n" || errw.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errw.String())
	}
	short := append(frame(1, "abc"), frame(1, "abcdef")[:10]...)
	if err := Demux(io.Discard, io.Discard, bytes.NewReader(short)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a cut frame: %v, want unexpected EOF", err)
	}
	if err := Demux(io.Discard, io.Discard, bytes.NewReader(frame(3, "no such exec"))); err == nil || !strings.Contains(err.Error(), "no such exec") {
		t.Errorf("the engine's error frame: %v", err)
	}
}

// fakeEngine serves handler on a Unix socket and points DOCKER_HOST at it.
func fakeEngine(t *testing.T, handler http.Handler) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	t.Setenv("DOCKER_API_VERSION", "")
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRequests(t *testing.T) {
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.43")
		io.WriteString(w, "OK")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		switch {
		case r.URL.Path == "/v1.43/containers/create":
			var cfg Config
			if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil || cfg.HostConfig.NetworkMode != "none" || cfg.HostConfig.NanoCPUs != 5e8 {
				http.Error(w, `{"message":"bad config"}`, http.StatusBadRequest)
				return
			}
			if r.URL.Query().Get("name") == "taken" {
				w.WriteHeader(http.StatusConflict)
				io.WriteString(w, `{"message":"Conflict. The container name \"/taken\" is already in use"}`)
				return
			}
			io.WriteString(w, `{"Id":"c0ffee"}`)
		case r.URL.Path == "/v1.43/containers/json":
			io.WriteString(w, `[{"Id":"c0ffee","Names":["/lab_a"],"State":"running","Labels":{"netlab.lab":"lab"}}]`)
		case r.URL.Path == "/v1.43/containers/gone/json":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"No such container: gone"}`)
		default:
			http.Error(w, "unexpected", http.StatusTeapot)
		}
	})
	c := fakeEngine(t, mux)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Image: "netlab/tiny", HostConfig: HostConfig{NetworkMode: "none", Resources: Resources{NanoCPUs: 5e8}}}
	if id, err := c.Create(ctx, "lab_a", cfg); err != nil || id != "c0ffee" {
		t.Fatalf("Create: %q, %v", id, err)
	}
	if _, err := c.Create(ctx, "taken", cfg); !IsConflict(err) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("Create of a taken name: %v", err)
	}
	list, err := c.List(ctx, Filters{"label": {"netlab.lab=lab"}})
	if err != nil || len(list) != 1 || list[0].Names[0] != "/lab_a" {
		t.Errorf("List: %+v, %v", list, err)
	}
	if _, err := c.Inspect(ctx, "gone"); !IsNotFound(err) {
		t.Errorf("Inspect of a missing container: %v", err)
	}
	if _, err := c.Inspect(ctx, "../images/x"); err == nil {
		t.Error("Inspect took a path as a container name")
	}
	want := []string{
		"POST /v1.43/containers/create?name=lab_a", "POST /v1.43/containers/create?name=taken",
		`GET /v1.43/containers/json?all=1&filters=%7B%22label%22%3A%7B%22netlab.lab%3Dlab%22%3Atrue%7D%7D`,
		"GET /v1.43/containers/gone/json",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

// TestExecStart checks the hijacked stream: input through to the engine,
// its end by CloseWrite, output framed back.
func TestExecStart(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1.41/exec/e1/start", func(w http.ResponseWriter, r *http.Request) {
		var start struct{ Detach, Tty bool }
		if r.Header.Get("Upgrade") != "tcp" || json.NewDecoder(r.Body).Decode(&start) != nil || start.Detach || start.Tty {
			http.Error(w, "not an attached exec start", http.StatusBadRequest)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		in, _ := io.ReadAll(bufio.NewReader(buf)) // until the client's CloseWrite
		conn.Write(frame(1, strings.ToUpper(string(in))))
		conn.Write(frame(2, "done\n"))
	})
	c := fakeEngine(t, mux)
	t.Setenv("DOCKER_API_VERSION", "1.41")
	c.version = "1.41"
	att, err := c.ExecStart(context.Background(), "e1")
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	io.WriteString(att, "hello\n")
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	if err := Demux(&out, &errw, att.Reader); err != nil {
		t.Fatal(err)
	}
	if out.String() != "HELLO\n" || errw.String() != "done\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errw.String())
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("DOCKER_API_VERSION", "")
	for _, c := range []struct{ host, network, addr, url string }{
		{"", "unix", "/var/run/docker.sock", "http://docker/v1.41/info"},
		{"unix:///run/user/1000/docker.sock", "unix", "/run/user/1000/docker.sock", "http://docker/v1.41/info"},
		{"tcp://10.0.0.1:2375", "tcp", "10.0.0.1:2375", "http://10.0.0.1:2375/v1.41/info"},
	} {
		t.Setenv("DOCKER_HOST", c.host)
		cl, err := FromEnv()
		if err != nil {
			t.Fatalf("DOCKER_HOST=%q: %v", c.host, err)
		}
		if cl.network != c.network || cl.addr != c.addr || cl.url("/info", nil) != c.url {
			t.Errorf("DOCKER_HOST=%q: %s %s %s", c.host, cl.network, cl.addr, cl.url("/info", nil))
		}
	}
	for _, h := range []string{"ssh://me@host", "npipe:////./pipe/docker_engine", "unix://", "10.0.0.1:2375"} {
		t.Setenv("DOCKER_HOST", h)
		if _, err := FromEnv(); err == nil {
			t.Errorf("DOCKER_HOST=%q accepted", h)
		}
	}
}
