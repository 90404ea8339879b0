package wire

import (
	"context"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/naming"
)

// WatchBridges sends on kick (never blocking) whenever one of the lab's
// network bridges is deleted from the host, until ctx ends: a switch
// pulled out from under a running lab, which an up of its file makes
// again. Nodes that start again are their runtime's to report.
func WatchBridges(ctx context.Context, lab string, kick chan<- struct{}) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errs := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
	if err != nil {
		return fmt.Errorf("follow the host's interfaces: %w", err)
	}
	prefix := naming.BridgeAlias(lab, "")
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return fmt.Errorf("follow the host's interfaces: %w", err)
		case u, ok := <-updates:
			if !ok {
				return fmt.Errorf("follow the host's interfaces: the subscription ended")
			}
			if u.Header.Type == unix.RTM_DELLINK && strings.HasPrefix(u.Attrs().Alias, prefix) {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}
	}
}
