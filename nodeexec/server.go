package nodeexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Server is the init's end: it starts the commands the host sends as the
// init's children, and the init's reaper hands it their wait statuses
// (Reaped).
type Server struct {
	ln     *net.UnixListener
	stderr io.Writer
	mu     sync.Mutex
	// running: a command's pid to where its status goes. A command is
	// started and entered here under mu, so that the reaper, which takes
	// mu too, cannot miss one that ends at once.
	running map[int]chan<- int
}

// Listen opens the init's socket in the namespace the init is in: call it
// once the node is wired, before the node's command starts.
func Listen(stderr io.Writer) (*Server, error) {
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: SocketName, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	return &Server{ln: ln, stderr: stderr, running: map[int]chan<- int{}}, nil
}

// Serve takes the host's commands until the listener fails.
func (s *Server) Serve() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(s.stderr, "netlab init: exec socket: %v\n", err)
			}
			return
		}
		go s.handle(c)
	}
}

// Close stops taking commands.
func (s *Server) Close() error { return s.ln.Close() }

// Reaped takes the wait status of a process the init reaped, and reports
// whether it was one of the host's commands.
func (s *Server) Reaped(pid int, ws unix.WaitStatus) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	done, ok := s.running[pid]
	if ok {
		delete(s.running, pid)
		done <- ExitStatus(ws)
	}
	return ok
}

// handle runs one command: from the host's root only, on the three files
// passed with the request; it answers with the exit status, and kills the
// command (its whole session) when the host goes away first.
func (s *Server) handle(c *net.UnixConn) {
	defer c.Close()
	if !fromHostRoot(c) {
		return
	}
	files, argv, err := readRequest(c)
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err != nil {
		send(c, reply{Code: codeNoExec, Error: err.Error()})
		return
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		send(c, reply{Code: codeNotFound, Error: fmt.Sprintf("%s: %v", argv[0], err)})
		return
	}
	done := make(chan int, 1)
	s.mu.Lock()
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		// A session of its own: the node's terminal signals spare it,
		// and it ends as a group when the host goes away.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err == nil {
		s.running[proc.Pid] = done
	}
	s.mu.Unlock()
	if err != nil {
		code := codeNoExec
		if errors.Is(err, os.ErrNotExist) {
			code = codeNotFound
		}
		send(c, reply{Code: code, Error: fmt.Sprintf("run %s: %v", argv[0], err)})
		return
	}
	for _, f := range files {
		f.Close()
	}
	files = nil
	gone := make(chan struct{})
	go func() {
		// The host sends nothing more: a read ends when it goes away.
		c.Read(make([]byte, 1))
		close(gone)
	}()
	select {
	case code := <-done:
		send(c, reply{Code: code})
	case <-gone:
		unix.Kill(-proc.Pid, unix.SIGKILL)
	}
}

// fromHostRoot reports whether the peer is root outside the node's PID
// namespace: the kernel shows such a peer's pid as 0 here.
func fromHostRoot(c *net.UnixConn) bool {
	cred, err := peer(c)
	return err == nil && cred.Pid == 0 && cred.Uid == 0
}

// readRequest reads the request packet: the command line, and exactly
// three files (its standard input, output and error).
func readRequest(c *net.UnixConn) ([]*os.File, []string, error) {
	buf := make([]byte, maxRequest)
	oob := make([]byte, unix.CmsgSpace(3*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, err
	}
	var files []*os.File
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "stdio"))
			}
		}
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return files, nil, fmt.Errorf("a request over %d bytes or with too many files", maxRequest)
	}
	var req request
	if err := decode(buf[:n], &req); err != nil {
		return files, nil, err
	}
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		return files, nil, errors.New("no command")
	}
	if len(files) != 3 {
		return files, nil, fmt.Errorf("%d files with the request, not 3 (input, output, error)", len(files))
	}
	return files, req.Argv, nil
}

func send(c *net.UnixConn, r reply) {
	data, _ := json.Marshal(r)
	c.Write(data)
}
