// Package nodeinit is a node's first process: it waits until the host has
// wired the node, starts the node's DHCP client where the lab asks for
// one, then runs the node's own command and stays its parent (PID 1 of the
// node), reaping every orphan and ending with the command. It is small on purpose: every
// node of a lab starts it (cmd/netlab-init), and the package's imports are
// what each node start pays for.
package nodeinit

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/dhcp"
	"github.com/netlab/netlab/nodeexec"
)

// Where a node finds netlab's files.
const (
	Path     = "/.netlab/init" // this program, bind-mounted read-only
	ReadyDir = "/.netlab/run"  // holds "ready" once the node is wired
	// InstanceFile, in ReadyDir where it is writable, holds the init's
	// Instance.
	InstanceFile = "instance"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitNoExec   = 126 // the command could not be run
	exitNotFound = 127 // the command is not in the node
)

// Instance names one run of a node's container, from its first process
// (proc is a pid, or "self" inside the node): its network namespace and
// the process's start time. The namespace alone does not do: the kernel
// gives a freed namespace's number to the next new one, often at once to
// the restarted container's.
func Instance(proc string) (string, error) {
	ns, err := os.Readlink("/proc/" + proc + "/ns/net")
	if err != nil {
		return "", err
	}
	stat, err := os.ReadFile("/proc/" + proc + "/stat")
	if err != nil {
		return "", err
	}
	// pid (comm) state ppid ...: starttime is the 22nd field, the 20th after comm.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 20 {
		return "", fmt.Errorf("/proc/%s/stat: too few fields", proc)
	}
	return ns + " " + fields[19], nil
}

// Run is the node's init: args are its flags, then the node's command. It
// waits until the ready file names this run of the container (Instance),
// then runs the command as its child (supervise) and returns the
// command's exit status, which the node's container then ends with. After
// a restart the run is new, so it waits again. With -files, it first
// copies the node's files into place (copyTree). With -dhcp, before the
// command it starts the node's DHCP client and waits (at most dhcpWait)
// until every interface named holds a lease.
//
// The init stays the node's PID 1, not the command, because a namespace's
// PID 1 inherits every orphan and must reap it: commands written for a
// full init (a shell starting daemons that fork, FRR's watchfrr, a
// sleep) leave zombies otherwise.
func Run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dhcpIfaces := fs.String("dhcp", "", "interfaces whose IPv4 address comes by DHCP, comma-separated")
	dhcpDNS := fs.Bool("dhcp-dns", false, "write the name servers of the lease to /etc/resolv.conf")
	files := fs.String("files", "", "a tree of the node's files to copy into place first (FilesDir)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprintln(stderr, "netlab init: no command to run")
		return exitUsage
	}
	if *files != "" {
		if err := copyFilesOnce(*files); err != nil {
			fmt.Fprintf(stderr, "netlab init: the node's files: %v\n", err)
			return exitFailure
		}
	}
	self, err := Instance("self")
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: %v\n", err)
		return exitFailure
	}
	// Where the ready directory is writable (a pod's volume), the node's
	// instance for whoever wires it without seeing its processes (a pod's
	// own agent, which shares the directory); read-only elsewhere.
	_ = os.WriteFile(ReadyDir+"/"+InstanceFile, []byte(self), 0o644)
	ready := ReadyDir + "/ready"
	wait, stopWatch := readyWatch(ReadyDir)
	warn := time.Now().Add(warnAfter)
	for {
		if data, err := os.ReadFile(ready); err == nil && string(data) == self {
			break
		}
		left := time.Until(warn)
		if !warn.IsZero() && left <= 0 {
			fmt.Fprintln(stderr, "netlab init: still waiting for the wiring (run netlab up again?)")
			warn = time.Time{}
		}
		wait(left)
	}
	stopWatch()
	if *dhcpIfaces != "" {
		startDHCPClient(strings.Split(*dhcpIfaces, ","), *dhcpDNS, stderr)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: %v\n", err)
		return exitNotFound
	}
	// The host's way in (netlab exec, the checks' probes): it listens
	// once the node is wired, in the node's network namespace.
	execs, err := nodeexec.Listen(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no exec socket, netlab exec goes through the runtime: %v\n", err)
	} else {
		go execs.Serve()
	}
	// Signals from here on are the command's: caught before it starts,
	// passed on once it runs.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	return supervise(path, args, sigs, stderr, execs)
}

// warnAfter is how long a node waits for its wiring before it says so.
const warnAfter = 30 * time.Second

// readyWatch returns a function that sleeps until something changes in dir
// (inotify), or at most d when d > 0. A lab's nodes wait together, so they
// must not poll, nor wake on a timer: each wake-up keeps the Go runtime's
// monitor thread polling for the next 10 ms, and with one a second the
// waiting inits of a 1,000-node chain took about 2 s of CPU time in its up
// (perf record -a of the up). Without inotify it falls back to 50 ms naps.
func readyWatch(dir string) (wait func(d time.Duration), stop func()) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err == nil {
		_, err = unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_CREATE)
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return func(time.Duration) { time.Sleep(50 * time.Millisecond) }, func() {}
	}
	buf := make([]byte, 4096)
	return func(d time.Duration) {
		timeout := -1 // until an event
		if d > 0 {
			timeout = int(d.Milliseconds()) + 1
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, timeout); n > 0 {
			unix.Read(fd, buf) // drain; the caller re-reads the file
		}
	}, func() { unix.Close(fd) }
}

// dhcpWait is how long a node's command waits for its DHCP leases. Then
// it starts anyway (the client keeps asking), as a booting machine does:
// the server may be a program in another node that the lab is about.
const dhcpWait = 60 * time.Second

// startDHCPClient starts the node's DHCP client, a process of its own that
// keeps renewing the leases while the node's command runs (a child of the
// init, as the command is), and waits until
// it says that every interface holds a lease.
func startDHCPClient(ifaces []string, dns bool, stderr io.Writer) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	defer r.Close()
	args := []string{"_dhcpc", "--notify-fd", "3"}
	if dns {
		args = append(args, "--dns")
	}
	cmd := exec.Command(self, append(args, ifaces...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	// A session of its own: a terminal's Ctrl-C to the command spares it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		fmt.Fprintf(stderr, "netlab init: no DHCP client: %v\n", err)
		return
	}
	r.SetReadDeadline(time.Now().Add(dhcpWait))
	if _, err := r.Read(make([]byte, 1)); err != nil {
		if os.IsTimeout(err) {
			fmt.Fprintf(stderr, "netlab init: no DHCP lease on %s after %s; starting the command anyway, the client keeps asking\n", strings.Join(ifaces, ", "), dhcpWait)
		} else {
			fmt.Fprintln(stderr, "netlab init: the DHCP client stopped; starting the command without its leases")
		}
	}
}

// RunDHCPClient is a node's DHCP client (see startDHCPClient): args are
// its flags, then the interfaces.
func RunDHCPClient(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("_dhcpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	notifyFD := fs.Int("notify-fd", 0, "file descriptor to write a line to once every interface holds a lease")
	dns := fs.Bool("dns", false, "write the name servers of the lease to /etc/resolv.conf")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return exitUsage
	}
	host, _ := os.Hostname()
	logger := log.New(stderr, "netlab dhcp: ", 0)
	c := &dhcp.Client{Ifaces: fs.Args(), DNS: *dns, Hostname: host, Logf: logger.Printf}
	err := c.Run(ctx, func() {
		if *notifyFD > 0 {
			f := os.NewFile(uintptr(*notifyFD), "notify")
			f.Write([]byte("bound\n"))
			f.Close()
		}
	})
	if err != nil && ctx.Err() == nil {
		logger.Print(err)
		return exitFailure
	}
	return exitOK
}
