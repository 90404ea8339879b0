package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/klog/v2"

	"github.com/netlab/netlab/engine"
)

// client-go logs through klog to standard error, also what is no error of
// the caller's (a websocket's heartbeat failing as an exec ends, after its
// command's output): netlab's output is its own, and what fails reaches it
// as returned errors.
func init() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
}

// Exec runs argv in the node's container through the API (the pod's exec
// subresource: WebSocket, or SPDY from a server without it) and returns
// its exit code. With a TTY it runs on a terminal: the caller's (made raw
// while the command runs) or, with stdio.Resize, one that takes the sizes
// sent on it.
func (r *Runtime) Exec(ctx context.Context, id string, argv []string, stdio engine.Stdio) (int, error) {
	ns, name, err := splitID(id)
	if err != nil {
		return 0, err
	}
	opts := remotecommand.StreamOptions{Stdin: stdio.In, Stdout: stdio.Out, Tty: stdio.TTY}
	if !stdio.TTY {
		opts.Stderr = stdio.Err
	}
	if stdio.TTY {
		if stdio.Resize != nil {
			opts.TerminalSizeQueue = &sizes{ch: stdio.Resize}
		} else if f, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			old, err := term.MakeRaw(int(f.Fd()))
			if err != nil {
				return 0, fmt.Errorf("exec in pod %s: make the terminal raw: %w", id, err)
			}
			defer term.Restore(int(f.Fd()), old)
			if w, h, err := term.GetSize(int(f.Fd())); err == nil {
				opts.TerminalSizeQueue = &sizes{first: &remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}}
			}
		}
	}
	err = r.stream(ctx, ns, name, containerName, argv, opts)
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("exec in pod %s: %w", id, err)
	}
	return 0, nil
}

// stream runs argv in a container of a pod through the pod's exec
// subresource (WebSocket, or SPDY from a server without it), with opts'
// streams, until it ends.
func (r *Runtime) stream(ctx context.Context, ns, pod, container string, argv []string, opts remotecommand.StreamOptions) error {
	req := r.core.RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   argv,
			Stdin:     opts.Stdin != nil,
			Stdout:    opts.Stdout != nil,
			Stderr:    opts.Stderr != nil,
			TTY:       opts.Tty,
		}, parameterCodec())
	ws, err := remotecommand.NewWebSocketExecutor(r.cfg, "GET", req.URL().String())
	if err != nil {
		return err
	}
	spdy, err := remotecommand.NewSPDYExecutor(r.cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	return ex.StreamWithContext(ctx, opts)
}

// sizes gives the terminal's sizes to the exec stream: 80x24 (or first)
// at once, then each size sent on ch until it closes.
type sizes struct {
	first *remotecommand.TerminalSize
	sent  bool
	ch    <-chan engine.WindowSize
}

func (s *sizes) Next() *remotecommand.TerminalSize {
	if !s.sent {
		s.sent = true
		if s.first != nil {
			return s.first
		}
		return &remotecommand.TerminalSize{Width: 80, Height: 24}
	}
	if s.ch == nil {
		return nil
	}
	ws, ok := <-s.ch
	if !ok {
		return nil
	}
	return &remotecommand.TerminalSize{Width: ws.Cols, Height: ws.Rows}
}

// Logs copies the node's output: the container's log, which the API
// gives as one stream (standard error is in stdout). tail is a number of
// lines or "all".
func (r *Runtime) Logs(ctx context.Context, id string, follow bool, tail string, stdout, stderr io.Writer) error {
	ns, name, err := splitID(id)
	if err != nil {
		return err
	}
	opts := &corev1.PodLogOptions{Container: containerName, Follow: follow}
	if tail != "" && tail != "all" {
		n, err := strconv.ParseInt(tail, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("logs of pod %s: tail %q: want a number of lines or all", id, tail)
		}
		opts.TailLines = &n
	}
	rc, err := r.core.Pods(ns).GetLogs(name, opts).Stream(ctx)
	if err != nil {
		return fmt.Errorf("logs of pod %s: %w", id, err)
	}
	defer rc.Close()
	if _, err := io.Copy(stdout, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("logs of pod %s: %w", id, err)
	}
	return nil
}
