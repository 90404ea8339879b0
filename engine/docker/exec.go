package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/engine"
)

// Exec runs argv in a running container. With a terminal it hands the
// command to the docker client, which does TTYs well; otherwise it goes
// through the engine's API, input included (a docker client's start costs
// more CPU than most commands a lab's tests run).
func (d *Docker) Exec(ctx context.Context, id string, argv []string, stdio engine.Stdio) (int, error) {
	if stdio.TTY {
		docker, err := exec.LookPath("docker")
		if err != nil {
			return 0, errors.New("netlab exec runs the docker command, which is not installed: apt-get install docker.io")
		}
		args := []string{"exec", "-i"}
		if stdio.TTY {
			args = append(args, "-t")
		}
		return engine.RunCommand(exec.Command(docker, append(append(args, id), argv...)...), stdio)
	}
	ex, err := d.c.ExecCreate(ctx, id, argv, stdio.In != nil)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	att, err := d.c.ExecStart(ctx, ex)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	defer att.Close()
	if stdio.In != nil {
		// Until the input ends (then the command reads end of file), or
		// the command does: the copy stays blocked on an input that never
		// ends, as the docker client's does.
		go func() {
			io.Copy(att, stdio.In)
			att.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	out, errw := stdio.Out, stdio.Err
	if out == nil {
		out = io.Discard
	}
	if errw == nil {
		errw = io.Discard
	}
	go func() {
		done <- dockerapi.Demux(out, errw, att.Reader)
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("read the output of exec in container %s: %w", id, err)
	}
	code, err := d.c.ExecExitCode(ctx, ex)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return code, nil
}
