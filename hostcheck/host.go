package hostcheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/runtimes"
	"github.com/netlab/netlab/serve/store"
	"golang.org/x/sys/unix"
)

// Component is a piece of the host a runtime needs: the Docker engine,
// runc, the cgroup hierarchy.
type Component struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Version string `json:"version,omitempty"`
	// Detail is what was found, or what failed and what to do.
	Detail  string `json:"detail,omitempty"`
	Enables string `json:"enables"`
}

// KernelFeature is a feature's probe with what it is for.
type KernelFeature struct {
	Result
	Enables string `json:"enables"`
	Without string `json:"without"`
}

// Report is what netlab doctor says of the host.
type Report struct {
	Components []Component     `json:"components"`
	Kernel     []KernelFeature `json:"kernel"`
	KernelErr  string          `json:"kernel_error,omitempty"` // why the kernel could not be probed
}

// Doctor looks at the host: the Docker engine, runc, the cgroup version and
// the kernel's features.
func Doctor(ctx context.Context) Report {
	r := Report{Components: []Component{dockerEngine(ctx), runcBinary(ctx), cgroups(), kubernetes(), classServer()}}
	k, err := Probe()
	if err != nil {
		r.KernelErr = err.Error()
	}
	for _, res := range k {
		i := InfoOf(res.Feature)
		r.Kernel = append(r.Kernel, KernelFeature{Result: res, Enables: i.Enables, Without: i.Without})
	}
	return r
}

// kubernetes and classServer say whether this netlab was built with the
// Kubernetes runtime and the class server (its packages and database) (make fopnp builds
// the playground's netlab without them).
func kubernetes() Component {
	return builtIn("kubernetes", "the Kubernetes runtime: labs on a cluster (--runtime kubernetes, --kubeconfig or KUBECONFIG)",
		"built in; a cluster is reached when a lab asks for one", runtimes.KubernetesBuiltIn())
}

func classServer() Component {
	return builtIn("serve", "netlab serve: a class's labs in the browser", "built in", store.BuiltIn())
}

// builtIn is a part of netlab that a build may leave out: missing says
// how to build it in.
func builtIn(name, enables, detail string, missing error) Component {
	if missing != nil {
		return Component{Name: name, Enables: enables, Detail: missing.Error()}
	}
	return Component{Name: name, Enables: enables, OK: true, Detail: detail}
}

func dockerEngine(ctx context.Context) Component {
	c := Component{Name: "docker", Enables: "the Docker runtime (the default); images from the engine for the runc runtime"}
	cl, err := dockerapi.FromEnv()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var v *dockerapi.Version
	if err = cl.Ping(ctx); err == nil {
		v, err = cl.ServerVersion(ctx)
	}
	if err != nil {
		c.Detail = fmt.Sprintf("no engine answers at %s: %v; start it (scripts/setup.sh does), or use --runtime runc with oci: or rootfs: images", cl.Host(), err)
		return c
	}
	c.OK, c.Version = true, v.Version
	c.Detail = fmt.Sprintf("engine at %s, API %s, storage %s", cl.Host(), v.APIVersion, storageDriver(ctx, cl))
	return c
}

func storageDriver(ctx context.Context, cl *dockerapi.Client) string {
	d, err := cl.StorageDriver(ctx)
	if err != nil || d == "" {
		return "unknown"
	}
	return d
}

func runcBinary(ctx context.Context) Component {
	c := Component{Name: "runc", Enables: "the runc runtime (--runtime runc, runtime: runc): nodes without an engine"}
	bin, err := exec.LookPath("runc")
	if err != nil {
		c.Detail = "not installed: apt-get install runc (scripts/setup.sh does)"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		c.Detail = fmt.Sprintf("%s --version: %v", bin, err)
		return c
	}
	first, _, _ := strings.Cut(string(out), "\n")
	c.OK, c.Version, c.Detail = true, strings.TrimPrefix(first, "runc version "), bin
	return c
}

// cgroups tells the cgroup version: v2 is one hierarchy at /sys/fs/cgroup;
// v1 a tmpfs of one hierarchy per controller (hybrid when a v2 one is
// mounted at unified/ beside them).
func cgroups() Component {
	c := Component{Name: "cgroup", Enables: "the runc runtime's nodes (one cgroup each); both versions work"}
	var fs unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &fs); err != nil {
		c.Detail = fmt.Sprintf("/sys/fs/cgroup: %v: mount the cgroup file system", err)
		return c
	}
	switch {
	case fs.Type == unix.CGROUP2_SUPER_MAGIC:
		c.OK, c.Version, c.Detail = true, "v2", "unified hierarchy at /sys/fs/cgroup"
	case fs.Type == unix.TMPFS_MAGIC:
		c.OK, c.Version, c.Detail = true, "v1", "a hierarchy per controller under /sys/fs/cgroup"
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
			c.Version, c.Detail = "v1 (hybrid)", c.Detail+", v2 at /sys/fs/cgroup/unified"
		}
	default:
		c.Detail = fmt.Sprintf("/sys/fs/cgroup is neither cgroup2 nor a tmpfs of v1 hierarchies (file system type %#x)", fs.Type)
	}
	return c
}
