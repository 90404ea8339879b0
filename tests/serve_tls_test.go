package tests

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeOverHTTPS runs netlab serve listening beyond loopback (on all
// addresses; the test speaks to it on 127.0.0.1 only): it makes its own
// certificate once and speaks only TLS. A client that trusts that
// certificate (no verification skipped) logs in; the session cookie is
// Secure, HttpOnly and SameSite=Strict; a change without the CSRF token,
// with a wrong one, or from another site is refused; with the token it
// works. Then the server runs on loopback with --tls-cert/--tls-key.
func TestServeOverHTTPS(t *testing.T) {
	parallel(t)
	data := t.TempDir()
	out := netlab(t, "serve", "user", "add", "teach", "--role", "teacher", "--data", data)
	m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out.stdout)
	if m == nil {
		t.Fatalf("serve user add printed no password: %q", out.stdout)
	}
	password := m[1]

	port := fmt.Sprint(freePort(t))
	stop := runServe(t, data, "0.0.0.0:"+port)
	certFile := filepath.Join(data, "tls", "cert.pem")
	client := trusting(t)
	base := "https://127.0.0.1:" + port
	waitAnswers(t, client, base, certFile)
	cert1, _ := os.ReadFile(certFile)

	if resp, err := http.Get("http://127.0.0.1:" + port + "/api/me"); err == nil {
		if resp.StatusCode != http.StatusBadRequest { // Go's TLS server answers a plain request 400
			t.Errorf("plain HTTP beyond loopback: %d, want the TLS server's refusal", resp.StatusCode)
		}
		resp.Body.Close()
	}

	resp, body := post(t, client, base+"/api/login", `{"name":"teach","password":"`+password+`"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login over TLS: %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "netlab_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("the session cookie over TLS: %+v (Set-Cookie %q), want Secure, HttpOnly, SameSite=Strict", cookie, resp.Header.Values("Set-Cookie"))
	}
	var me struct{ CSRF string }
	json.Unmarshal([]byte(body), &me)
	if me.CSRF == "" {
		t.Fatalf("the login answer has no CSRF token: %s", body)
	}
	add := func(name string, h map[string]string) int {
		resp, body := post(t, client, base+"/api/users", `{"name":"`+name+`","role":"student"}`, h)
		t.Logf("POST /api/users %s with %v: %d %s", name, h, resp.StatusCode, strings.TrimSpace(body))
		return resp.StatusCode
	}
	if code := add("nocsrf", nil); code != 403 {
		t.Errorf("a change without the CSRF token: %d, want 403", code)
	}
	if code := add("wrongcsrf", map[string]string{"X-CSRF-Token": "wrong"}); code != 403 {
		t.Errorf("a change with a wrong CSRF token: %d, want 403", code)
	}
	if code := add("crosssite", map[string]string{"X-CSRF-Token": me.CSRF, "Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("a change from another site, with the token: %d, want 403", code)
	}
	if code := add("evilorigin", map[string]string{"X-CSRF-Token": me.CSRF, "Origin": "https://evil.example"}); code != 403 {
		t.Errorf("a change from another origin, with the token: %d, want 403", code)
	}
	if code := add("carol", map[string]string{"X-CSRF-Token": me.CSRF}); code != 201 {
		t.Errorf("a change with the token: %d, want 201", code)
	}
	stop()

	// Started again, it keeps its certificate.
	stop = runServe(t, data, "0.0.0.0:"+port)
	waitAnswers(t, client, base, certFile)
	stop()
	if cert2, _ := os.ReadFile(certFile); !bytes.Equal(cert1, cert2) {
		t.Errorf("the server made a new certificate on its second start")
	}

	// On loopback with a certificate given, it speaks TLS too.
	data2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(data2, "c.pem"), cert1, 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(data, "tls", "key.pem"))
	os.WriteFile(filepath.Join(data2, "k.pem"), key, 0o600)
	port2 := fmt.Sprint(freePort(t))
	stop = runServe(t, data2, "127.0.0.1:"+port2, "--tls-cert", filepath.Join(data2, "c.pem"), "--tls-key", filepath.Join(data2, "k.pem"))
	defer stop()
	waitAnswers(t, client, "https://127.0.0.1:"+port2, filepath.Join(data2, "c.pem"))
}

// runServe starts netlab serve; the function it returns stops it (and is
// called at the end of the test in any case).
func runServe(t *testing.T, data, listen string, extra ...string) func() {
	cmd := exec.Command(netlabBin, append([]string{"serve", "--listen", listen, "--data", data}, extra...)...)
	log, _ := os.OpenFile(filepath.Join(data, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		log.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(data, "serve.log"))
			t.Logf("server log:\n%s", b)
		}
	})
	return stop
}

// trusting is an HTTPS client that trusts no certificate until
// waitAnswers gives it the server's.
func trusting(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
}

// waitAnswers waits until the server answers over TLS, verified against
// the certificate the client trusts.
func waitAnswers(t *testing.T, c *http.Client, base, file string) {
	t.Helper()
	tr := c.Transport.(*http.Transport)
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		pem, rerr := os.ReadFile(file)
		if rerr != nil {
			err = rerr
			continue
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", file)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		var resp *http.Response
		resp, err = c.Get(base + "/api/me")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 401 || resp.StatusCode == 200 { // logged in or not
				return
			}
			err = fmt.Errorf("GET /api/me: %s", resp.Status)
		}
	}
	t.Fatalf("netlab serve did not answer on %s over TLS: %v", base, err)
}

func post(t *testing.T, c *http.Client, url, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}
