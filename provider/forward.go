package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
)

// A published port is served by a small netlab process on the host, one per
// port: it accepts on the host address and, for each connection, dials the
// node's port from inside the node's namespace (so the node needs no route
// to the host and the host no address in the lab). It finds the container by
// name at every connection, so a restarted node is reached in its new
// namespace. Its pid file lives in the lab's run directory; down stops it.

// forwardPidFile names the forwarder's pid file after the node and the host
// address it serves: publish-NODE@ADDR-PORT.pid ('@' is in neither).
func forwardPidFile(lab, node string, p *planner.Publish) string {
	return filepath.Join(RunDir, lab, fmt.Sprintf("publish-%s@%s-%d.pid", node, p.HostIP, p.HostPort))
}

// EnsureForwarder starts the forwarder of node's published port unless it runs.
func EnsureForwarder(lab, node string, p *planner.Publish, self string) (changed bool, err error) {
	pidFile := forwardPidFile(lab, node, p)
	if _, ok := runningPid(pidFile); ok {
		return false, nil
	}
	containerName := naming.Container(lab, node)
	listen := net.JoinHostPort(p.HostIP.String(), strconv.Itoa(p.HostPort))
	err = startHelper(pidFile, self, "_forward", "--listen", listen, "--container", containerName,
		"--port", strconv.Itoa(p.NodePort), "--pidfile", pidFile)
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", listen, err)
	}
	return true, nil
}

// startHelper starts a detached netlab helper process (a forwarder or a
// relay) that writes pidFile once it serves, and waits until it does. Its
// output goes to a log beside the pid file.
func startHelper(pidFile, self string, args ...string) error {
	os.Remove(pidFile)
	logFile := strings.TrimSuffix(pidFile, ".pid") + ".log"
	logw, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logw.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(5 * time.Second)
	for {
		if _, ok := runningPid(pidFile); ok {
			return nil
		}
		select {
		case <-exited:
			msg, _ := os.ReadFile(logFile)
			return fmt.Errorf("%s failed: %s", args[0], lastLine(string(msg)))
		case <-deadline:
			return fmt.Errorf("%s did not start in 5s; see %s", args[0], logFile)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// runningPid reads a pid file and tells whether that process still runs.
func runningPid(file string) (int, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// StopHelpers stops every helper process of the lab: forwarders, relays.
func StopHelpers(lab string) error {
	files, _ := filepath.Glob(filepath.Join(RunDir, lab, "*.pid"))
	for _, f := range files {
		if pid, ok := runningPid(f); ok {
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("stop helper %d (%s): %w", pid, filepath.Base(f), err)
			}
			for i := 0; i < 100; i++ { // wait for it to let go of its port
				if syscall.Kill(pid, 0) != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		os.Remove(f)
	}
	return nil
}

// Forward is the forwarder's main loop: accept on listen, dial port inside
// the container's namespace, copy both ways. It writes pidFile once it
// listens and returns when ctx ends.
func Forward(ctx context.Context, listen, containerName string, port int, pidFile string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	d, err := NewDocker(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			n, err := d.Inspect(ctx, containerName)
			if err != nil || n.Pid == 0 {
				log.Printf("%s: container %s is not running", c.RemoteAddr(), containerName)
				return
			}
			up, err := dialIn(n.Pid, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				log.Printf("%s: %v", c.RemoteAddr(), err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
			go func() { io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// dialIn connects from inside the network namespace of process pid. The
// socket keeps its namespace after the thread switches back.
func dialIn(pid int, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	target, err := netns.GetFromPid(pid)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	conn, dialErr := net.DialTimeout("tcp", addr, 5*time.Second)
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the node's namespace: leave it locked so
		// that Go retires it with this goroutine.
		return conn, dialErr
	}
	runtime.UnlockOSThread()
	return conn, dialErr
}
