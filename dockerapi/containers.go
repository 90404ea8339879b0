package dockerapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Config is what a container is made with: the fields netlab sets of the
// engine's ContainerConfig, with its HostConfig.
type Config struct {
	Hostname        string            `json:",omitempty"`
	Image           string            `json:",omitempty"`
	Env             []string          `json:",omitempty"`
	Labels          map[string]string `json:",omitempty"`
	Entrypoint      []string          `json:",omitempty"`
	Cmd             []string          `json:",omitempty"`
	NetworkDisabled bool              `json:",omitempty"`
	HostConfig      HostConfig
}

// HostConfig is how the host runs the container.
type HostConfig struct {
	NetworkMode   string            `json:",omitempty"`
	RestartPolicy RestartPolicy     `json:",omitempty"`
	Sysctls       map[string]string `json:",omitempty"`
	CapAdd        []string          `json:",omitempty"`
	CapDrop       []string          `json:",omitempty"`
	ReadonlyPaths []string          `json:",omitempty"`
	Binds         []string          `json:",omitempty"`
	Resources
}

// RestartPolicy is when the engine starts the container again ("no",
// "always", "unless-stopped", "on-failure").
type RestartPolicy struct {
	Name string `json:",omitempty"`
}

// Resources are the container's cgroup limits (zero: none).
type Resources struct {
	NanoCPUs   int64  `json:"NanoCpus,omitempty"`
	Memory     int64  `json:",omitempty"`
	MemorySwap int64  `json:",omitempty"`
	PidsLimit  *int64 `json:",omitempty"`
}

// Create makes a container named name and returns its ID.
func (c *Client) Create(ctx context.Context, name string, cfg *Config) (string, error) {
	var out struct {
		ID string `json:"Id"`
	}
	err := c.call(ctx, http.MethodPost, "/containers/create", url.Values{"name": {name}}, cfg, &out)
	return out.ID, err
}

// onContainer makes a call on the container named id (checked against
// the grammar of names and IDs before it goes into the path): op is what
// follows /containers/ID ("/start", "" for the container itself).
func (c *Client) onContainer(ctx context.Context, method, id, op string, q url.Values, out any) error {
	if err := checkID(id); err != nil {
		return err
	}
	return c.call(ctx, method, "/containers/"+id+op, q, nil, out)
}

// Start starts a container; one running already is no error.
func (c *Client) Start(ctx context.Context, id string) error {
	return c.onContainer(ctx, http.MethodPost, id, "/start", nil, nil)
}

// Stop stops a container: SIGTERM, then SIGKILL after timeout seconds; one
// stopped already is no error.
func (c *Client) Stop(ctx context.Context, id string, timeout int) error {
	return c.onContainer(ctx, http.MethodPost, id, "/stop", url.Values{"t": {strconv.Itoa(timeout)}}, nil)
}

// Restart stops a container (SIGKILL after timeout seconds) and starts it.
func (c *Client) Restart(ctx context.Context, id string, timeout int) error {
	return c.onContainer(ctx, http.MethodPost, id, "/restart", url.Values{"t": {strconv.Itoa(timeout)}}, nil)
}

// Kill sends a container's process a signal ("KILL", "TERM", …).
func (c *Client) Kill(ctx context.Context, id, signal string) error {
	return c.onContainer(ctx, http.MethodPost, id, "/kill", url.Values{"signal": {signal}}, nil)
}

// Remove removes a container, running or not, with its anonymous volumes.
func (c *Client) Remove(ctx context.Context, id string) error {
	return c.onContainer(ctx, http.MethodDelete, id, "", url.Values{"force": {"1"}, "v": {"1"}}, nil)
}

// WaitRemoved returns once the container is removed (the engine's wait
// for the condition "removed"); one gone already is no error.
func (c *Client) WaitRemoved(ctx context.Context, id string) error {
	err := c.onContainer(ctx, http.MethodPost, id, "/wait", url.Values{"condition": {"removed"}}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Container is what Inspect tells of a container.
type Container struct {
	ID    string `json:"Id"`
	Name  string // with the engine's leading "/"
	State struct {
		Running   bool
		Pid       int
		StartedAt time.Time // zero if never started
	}
	Config struct {
		Labels map[string]string
	}
	HostsPath string
	Mounts    []struct {
		Source      string
		Destination string
	}
}

// Inspect tells a container's state, labels and mounts.
func (c *Client) Inspect(ctx context.Context, id string) (*Container, error) {
	var out Container
	if err := c.onContainer(ctx, http.MethodGet, id, "/json", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Listed is a container as List shows it.
type Listed struct {
	ID     string `json:"Id"`
	Names  []string
	Image  string
	State  string
	Status string
	Labels map[string]string
}

// Filters select what List and Events return: each key (label, type,
// event, …) with the values any of which matches.
type Filters map[string][]string

func (f Filters) query(q url.Values) {
	if len(f) == 0 {
		return
	}
	m := map[string]map[string]bool{}
	for k, vs := range f {
		m[k] = map[string]bool{}
		for _, v := range vs {
			m[k][v] = true
		}
	}
	b, _ := json.Marshal(m)
	q.Set("filters", string(b))
}

// List lists every container, running or not, that f selects.
func (c *Client) List(ctx context.Context, f Filters) ([]Listed, error) {
	q := url.Values{"all": {"1"}}
	f.query(q)
	var out []Listed
	err := c.call(ctx, http.MethodGet, "/containers/json", q, nil, &out)
	return out, err
}

// Logs is a container's output: stdout and stderr multiplexed (Demux
// parts them); with follow, until the container stops or ctx ends. tail
// is how many lines from the end ("" or "all": every one).
func (c *Client) Logs(ctx context.Context, id string, follow bool, tail string) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}}
	if follow {
		q.Set("follow", "1")
	}
	if tail != "" {
		q.Set("tail", tail)
	}
	resp, err := c.do(ctx, http.MethodGet, "/containers/"+id+"/logs", q, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
