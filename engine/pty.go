package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// runOnPTY runs a runtime's client (docker exec -it, runc exec -t) on a
// pseudo-terminal it makes: the client sees a terminal, puts it in raw
// mode and follows its size as on a user's own; netlab copies stdio.In to
// the terminal and what the terminal shows to stdio.Out, and sets the
// terminal's size to each one on stdio.Resize, which the kernel signals to
// the client (SIGWINCH) as the client's controlling terminal.
func runOnPTY(cmd *exec.Cmd, stdio Stdio) (int, error) {
	master, slave, err := openPTY()
	if err != nil {
		return 0, err
	}
	defer master.Close()
	// The client reads its terminal's size as it starts: a size already
	// waiting is the terminal's from the first byte. One set later
	// reaches the client as SIGWINCH, which a client still starting can
	// miss (it showed as a page's shell left at 80x24 on a busy host).
	first := WindowSize{Cols: 80, Rows: 24}
	select {
	case size, ok := <-stdio.Resize:
		if ok {
			first = size
		}
	default:
	}
	setSize(master, first)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case size, ok := <-stdio.Resize:
				if !ok {
					return
				}
				setSize(master, size)
			}
		}
	}()
	if stdio.In != nil {
		go io.Copy(master, stdio.In) // ends when In ends or the terminal closes
	}
	out := stdio.Out
	if out == nil {
		out = io.Discard
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(out, master) // ends with EIO once the client and its terminal are gone
		close(copied)
	}()
	err = cmd.Wait()
	<-copied
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	return 0, nil
}

// openPTY opens a new pseudo-terminal's master and slave ends.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock a pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("name a pseudo-terminal: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open %s: %w", name, err)
	}
	return master, slave, nil
}

// setSize sets the terminal's size; a size of zero is left alone.
func setSize(master *os.File, size WindowSize) {
	if size.Cols == 0 || size.Rows == 0 {
		return
	}
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: size.Cols, Row: size.Rows})
}
