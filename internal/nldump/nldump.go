// Package nldump retries netlink dumps the kernel interrupted.
package nldump

import (
	"errors"

	"github.com/vishvananda/netlink"
)

// Retry runs a netlink dump again while the kernel reports it interrupted
// (netlink.ErrDumpInterrupted: the table changed during the dump, as when
// another lab's interfaces come and go), up to five times.
func Retry[T any](dump func() (T, error)) (T, error) {
	var v T
	var err error
	for i := 0; i < 5; i++ {
		if v, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}
