package provider

import (
	"context"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/engine/docker"
	"github.com/netlab/netlab/engine/runc"
)

// Open reaches this host's labs through its runtimes, the Docker engine
// and runc, either of which may be missing: only what needs it fails then.
// It fails only if neither can be used.
func Open(ctx context.Context) (*engine.Host, error) {
	d, dockerErr := docker.New(ctx)
	r, runcErr := runc.New()
	return engine.NewHost(d, dockerErr, r, runcErr)
}
