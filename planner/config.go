package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
)

// Config is what a node's container is made from and cannot change in a
// running container: netlab records it on the container (label
// naming.LabelConfig) and makes the container again when it differs from
// the plan's. The /etc/hosts entries are left out: they change whenever a
// node is added, and a node is not made again for that.
type Config struct {
	Image     string            `json:"image"`
	Hostname  string            `json:"hostname,omitempty"`
	Command   []string          `json:"command,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	Volumes   []string          `json:"volumes,omitempty"`
	Sysctls   map[string]string `json:"sysctls,omitempty"`
	DNS       []string          `json:"dns,omitempty"`
	DNSSearch []string          `json:"dns_search,omitempty"`
	CapAdd    []string          `json:"cap_add,omitempty"`
	CapDrop   []string          `json:"cap_drop,omitempty"`
	DHCP      []string          `json:"dhcp,omitempty"`
	DHCPDNS   bool              `json:"dhcp_dns,omitempty"`
	Files     string            `json:"files,omitempty"` // SHA-256 of the files written into it
	Resources *Resources        `json:"resources,omitempty"`
	Host      string            `json:"host,omitempty"`
}

// Config returns what the container is made from.
func (c *Container) Config() Config {
	cfg := Config{Image: c.Image, Hostname: c.Hostname, Command: c.Command, Env: c.Env, Volumes: c.Volumes, Sysctls: c.Sysctls,
		DNS: c.DNS, DNSSearch: c.DNSSearch, CapAdd: c.CapAdd, CapDrop: c.CapDrop, DHCP: c.DHCP, DHCPDNS: c.DHCPDNS,
		Resources: c.Resources, Host: c.Host}
	if len(c.Files) > 0 {
		h := sha256.New()
		for _, path := range slices.Sorted(maps.Keys(c.Files)) {
			h.Write([]byte(path))
			h.Write([]byte{0})
			h.Write([]byte(c.Files[path]))
			h.Write([]byte{0})
		}
		cfg.Files = hex.EncodeToString(h.Sum(nil))
	}
	return cfg
}

// Label is the configuration as recorded in the container's label.
func (c Config) Label() string {
	data, _ := json.Marshal(c) // strings, slices and maps of strings: cannot fail
	return string(data)
}

// Differences names the fields of c that differ from want, with both
// values where they are short: "image netlab/tiny -> netlab/host".
func (c Config) Differences(want Config) []string {
	var out []string
	field := func(name string, have, need any) {
		a, b := compact(have), compact(need)
		if a == b {
			return
		}
		if len(a)+len(b) <= 60 {
			out = append(out, name+" "+orNone(a)+" -> "+orNone(b))
		} else {
			out = append(out, name)
		}
	}
	field("image", c.Image, want.Image)
	field("hostname", c.Hostname, want.Hostname)
	field("command", c.Command, want.Command)
	field("env", c.Env, want.Env)
	field("volumes", c.Volumes, want.Volumes)
	field("sysctls", c.Sysctls, want.Sysctls)
	field("dns", c.DNS, want.DNS)
	field("dns_search", c.DNSSearch, want.DNSSearch)
	field("cap_add", c.CapAdd, want.CapAdd)
	field("cap_drop", c.CapDrop, want.CapDrop)
	field("dhcp", c.DHCP, want.DHCP)
	field("dhcp dns", c.DHCPDNS, want.DHCPDNS)
	field("resources", c.Resources, want.Resources)
	field("host", c.Host, want.Host)
	if c.Files != want.Files {
		out = append(out, "files")
	}
	return out
}

// compact is a value as JSON, with empty values as "".
func compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, _ := json.Marshal(v)
	switch s := string(data); s {
	case "null", "[]", "{}", "false":
		return ""
	default:
		return s
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
