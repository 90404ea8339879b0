// Package nldump retries netlink dumps the kernel interrupted.
package nldump

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/vishvananda/netlink"
)

// Tries is how many times Retry runs a dump.
const Tries = 20

// Retry runs a netlink dump again while the kernel reports it interrupted
// (netlink.ErrDumpInterrupted: the table changed during the dump, as when
// another lab's interfaces come and go), up to Tries times, waiting a
// little longer each time (a random part of i² ms, 2.5 s in all at most):
// 30 labs coming up at once change the host's interfaces so often that
// five dumps back to back were all interrupted.
func Retry[T any](dump func() (T, error)) (T, error) {
	var v T
	var err error
	for i := range Tries {
		if v, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
		time.Sleep(time.Duration(rand.IntN(i*i+1)) * time.Millisecond)
	}
	return v, err
}
