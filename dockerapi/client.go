// Package dockerapi is a client of the Docker engine's HTTP API: the few
// calls netlab makes (containers, their execs and logs, images, events),
// over the engine's socket or TCP, as DOCKER_HOST names it. The engine's
// API is documented at https://docs.docker.com/reference/api/engine/;
// netlab speaks version 1.41 (Docker 20.10) to 1.47, the engine's own if
// it is older or newer.
package dockerapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultHost is the engine's socket when DOCKER_HOST is not set.
const DefaultHost = "unix:///var/run/docker.sock"

// Versions of the API this client speaks: the newest it asks for, and
// the oldest engine it knows (Docker 20.10's).
const (
	maxVersion = "1.47"
	minVersion = "1.41"
)

// Client talks to one engine.
type Client struct {
	host    string // DOCKER_HOST's form: unix:///path or tcp://addr
	network string // "unix" or "tcp"
	addr    string // the socket's path or host:port
	tls     *tls.Config
	http    *http.Client

	mu      sync.Mutex
	version string // the API version in every path: DOCKER_API_VERSION's, or Ping's agreement
}

// FromEnv is a client of the engine DOCKER_HOST names (unix:// or tcp://;
// with DOCKER_TLS_VERIFY set, TLS with DOCKER_CERT_PATH's ca.pem,
// cert.pem and key.pem, as the docker command does). DOCKER_API_VERSION
// fixes the version; otherwise Ping agrees on one with the engine.
func FromEnv() (*Client, error) {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = DefaultHost
	}
	c := &Client{host: host, version: os.Getenv("DOCKER_API_VERSION")}
	scheme, rest, ok := strings.Cut(host, "://")
	switch {
	case ok && scheme == "unix" && rest != "":
		c.network, c.addr = "unix", rest
	case ok && scheme == "tcp" && rest != "":
		c.network, c.addr = "tcp", strings.TrimSuffix(rest, "/")
		if os.Getenv("DOCKER_TLS_VERIFY") != "" {
			cfg, err := tlsFromDir(os.Getenv("DOCKER_CERT_PATH"))
			if err != nil {
				return nil, fmt.Errorf("DOCKER_HOST %s: %w", host, err)
			}
			c.tls = cfg
		}
	default:
		return nil, fmt.Errorf("DOCKER_HOST %q: netlab reaches an engine at unix:///PATH or tcp://HOST:PORT", host)
	}
	c.http = &http.Client{Transport: &http.Transport{
		DialContext:         c.dial,
		TLSClientConfig:     c.tls,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}}
	return c, nil
}

// tlsFromDir is the TLS set-up of a certificate folder (default
// ~/.docker): the engine's CA, and this client's certificate and key.
func tlsFromDir(dir string) (*tls.Config, error) {
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(home, ".docker")
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s: no certificate in it", filepath.Join(dir, "ca.pem"))
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Host is the engine's address as DOCKER_HOST names it.
func (c *Client) Host() string { return c.host }

// Close closes the client's idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// dial opens a connection to the engine (TLS is the transport's, or
// hijack's, to add).
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, c.network, c.addr)
}

// Error is the engine's answer to a request that failed: its HTTP status
// and message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the engine answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// IsNotFound tells whether err is the engine's "no such container" (or
// image, or exec).
func IsNotFound(err error) bool { return status(err) == http.StatusNotFound }

// IsConflict tells whether err is the engine's "name in use" (or
// another conflict).
func IsConflict(err error) bool { return status(err) == http.StatusConflict }

func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// url is the request's URL: the API version, then path (escaped as a
// URL path needs), then the query.
func (c *Client) url(path string, q url.Values) string {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v == "" { // not pinged yet
		v = minVersion
	}
	return c.unversioned("/v"+v+path, q)
}

func (c *Client) unversioned(path string, q url.Values) string {
	// A socket's requests name no host; a TCP engine's name its address,
	// which its TLS certificate is checked against.
	u := url.URL{Scheme: "http", Host: "docker", Path: path, RawQuery: q.Encode()}
	if c.network == "tcp" {
		u.Host = c.addr
	}
	if c.tls != nil {
		u.Scheme = "https"
	}
	return u.String()
}

// do sends a request and returns the engine's answer when its status is
// under 400 (the caller closes its body); otherwise the engine's Error.
// A body that is not nil is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, q), r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

// readError is the Error of a failed answer: its JSON message, or its
// text.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) != nil || m.Message == "" {
		m.Message = strings.TrimSpace(string(b))
	}
	return &Error{Status: resp.StatusCode, Message: m.Message}
}

// call sends a request and decodes the JSON answer into out (nil: the
// answer is dropped).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the engine's answer: %w", method, path, err)
	}
	return nil
}

// Ping checks that the engine answers and, unless DOCKER_API_VERSION
// fixed it, agrees on the API version: the engine's when it is older
// than this client's newest, else that.
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.unversioned("/_ping", nil), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 400 {
		return &Error{Status: resp.StatusCode}
	}
	c.mu.Lock()
	if c.version == "" {
		c.version = Negotiate(resp.Header.Get("Api-Version"))
	}
	c.mu.Unlock()
	return nil
}

// Negotiate is the API version to speak with an engine that says it
// speaks server (its newest): server when it is older than this client's
// newest, this client's newest otherwise; the oldest this client knows
// when the engine does not say.
func Negotiate(server string) string {
	if server == "" {
		return minVersion
	}
	if Less(server, maxVersion) {
		return server
	}
	return maxVersion
}

// Less compares API versions ("1.41" < "1.47" < "1.100").
func Less(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// checkID refuses a container or exec reference that is not an ID or a
// container name (the engine's grammar: [a-zA-Z0-9][a-zA-Z0-9_.-]*), so
// that nothing but one path segment reaches a request's path.
func checkID(id string) error {
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '_' || r == '.' || r == '-')
		if !ok {
			return fmt.Errorf("container %q: not a container name or ID", id)
		}
	}
	if id == "" {
		return errors.New("container: empty name")
	}
	return nil
}

// checkImage refuses an image reference with characters no reference has
// ([a-zA-Z0-9._/:@-]), or a ".." path segment.
func checkImage(ref string) error {
	for _, r := range ref {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/:@-", r)
		if !ok {
			return fmt.Errorf("image %q: not an image reference", ref)
		}
	}
	if ref == "" || strings.HasPrefix(ref, "/") || strings.Contains("/"+ref+"/", "/../") || strings.Contains("/"+ref+"/", "/./") {
		return fmt.Errorf("image %q: not an image reference", ref)
	}
	return nil
}
