package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// apiClient is a browser without a page: a session's cookie and CSRF
// token, for the class server's JSON API.
type apiClient struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
}

// loginLink logs in with a one-time login link (base/#login=TOKEN).
func loginLink(t testing.TB, base, link string) *apiClient {
	t.Helper()
	_, token, ok := strings.Cut(link, "#login=")
	if !ok {
		t.Fatalf("%q is not a login link", link)
	}
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, http: &http.Client{Jar: jar}}
	code, body := c.do("POST", "/api/login/token", `{"token":"`+token+`"}`)
	if code != http.StatusOK {
		t.Fatalf("login with link %s: %d %s", link, code, body)
	}
	var m struct{ CSRF string }
	json.Unmarshal([]byte(body), &m)
	c.csrf = m.CSRF
	return c
}

// do sends a request with the session and returns the status and body.
func (c *apiClient) do(method, path, body string) (int, string) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// studentLab is a lab of the student's list.
type studentLab struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Class string `json:"class"`
}

// labs lists the session's labs.
func (c *apiClient) labs() []studentLab {
	c.t.Helper()
	code, body := c.do("GET", "/api/labs", "")
	var out []studentLab
	if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		c.t.Fatalf("GET /api/labs: %d %s", code, body)
	}
	return out
}

// makeClass runs netlab class create with a roster of names and more
// flags; it returns each student's login link.
func makeClass(t *testing.T, s *served, class string, names []string, flags ...string) map[string]string {
	t.Helper()
	roster := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(roster, []byte("name\n"+strings.Join(names, "\n")+"\n"), 0o644)
	args := append([]string{"class", "create", class, "--roster", roster, "--data", s.data, "--url", s.url}, flags...)
	out := runBin(t, netlabBin, args...)
	links := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\S+)\t\S+\t(\S+)$`).FindAllStringSubmatch(out.stdout, -1) {
		links[m[1]] = m[2]
	}
	if len(links) != len(names) {
		t.Fatalf("netlab class create printed %d login links for %d students:\n%s", len(links), len(names), out.stdout)
	}
	return links
}

// TestServeLimits: a class's per-node limits reach its nodes' cgroups
// when a student starts a lab through the API, and a second lab past the
// class's one-lab limit answers 409 saying why, until the first stops.
func TestServeLimits(t *testing.T) {
	parallel(t)
	s := startServe(t)
	s.class = labPrefix + "lim"
	other := labPrefix + "lim2"
	t.Cleanup(func() {
		for _, l := range labsOnHost() {
			if strings.HasPrefix(l, s.class+"-") || strings.HasPrefix(l, other+"-") {
				runBinRaw(t, netlabBin, "down", "--keep-cache", l)
			}
		}
	})
	makeClass(t, s, s.class, []string{"alice"}, "--lab", "p2p", "--max-labs", "1", "--node-pids", "64", "--node-memory", "96MiB", "--node-cpus", "0.25")
	links := makeClass(t, s, other, []string{"alice"}, "--lab", "p2p", "--max-labs", "1")
	alice := loginLink(t, s.url, links["alice"])
	of := map[string]studentLab{}
	for _, l := range alice.labs() {
		of[l.Class] = l
	}
	first, second := of[s.class], of[other]
	if code, body := alice.do("POST", "/api/labs/"+first.ID+"/up", "{}"); code != http.StatusOK {
		t.Fatalf("alice starts her first lab: %d %s", code, body)
	}
	l := &lab{t: t, name: first.Name}
	for _, node := range []string{"a", "b"} {
		pid := l.pid(node)
		if got := cgroupFile(t, pid, "pids", "pids.max"); got != "64" {
			t.Errorf("node %s: pids.max %s, want the class's 64", node, got)
		}
		if onV2() {
			continue
		}
		if got := cgroupFile(t, pid, "memory", "memory.limit_in_bytes"); got != "100663296" {
			t.Errorf("node %s: memory.limit_in_bytes %s, want the class's 96MiB", node, got)
		}
		if got := cgroupFile(t, pid, "cpu", "cpu.cfs_quota_us"); got != "25000" {
			t.Errorf("node %s: cpu.cfs_quota_us %s, want the class's 0.25 CPU", node, got)
		}
	}
	code, body := alice.do("POST", "/api/labs/"+second.ID+"/up", "{}")
	if code != http.StatusConflict || !strings.Contains(body, "class "+other+" allows 1 at once: stop one first") {
		t.Errorf("alice's second lab past her one-lab limit: %d %s", code, body)
	}
	if code, body := alice.do("POST", "/api/labs/"+first.ID+"/down", "{}"); code != http.StatusOK {
		t.Fatalf("alice stops her first lab: %d %s", code, body)
	}
	if code, body := alice.do("POST", "/api/labs/"+second.ID+"/up", "{}"); code != http.StatusOK {
		t.Errorf("alice's second lab once the first stopped: %d %s", code, body)
	}
}
