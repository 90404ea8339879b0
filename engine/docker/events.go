package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strconv"
	"time"

	"github.com/netlab/netlab/dockerapi"
	"github.com/netlab/netlab/naming"
)

// Died lists the nodes of since whose container's process ended between
// the node's time and now, with the exit code of each one's last end,
// from the engine's events: a node restarted by its restart policy since
// shows too; the end of an instance before the node's time does not.
func (d *Docker) Died(ctx context.Context, lab string, since map[string]time.Time) (map[string]int, error) {
	out := map[string]int{}
	var first time.Time
	for _, t := range since {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	if first.IsZero() {
		return out, nil
	}
	f := dockerapi.Filters{"type": {"container"}, "event": {"die"}, "label": {naming.LabelLab + "=" + lab}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evs, err := d.c.Events(ctx, f, strconv.FormatInt(first.Unix(), 10), strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 3, 64))
	if err != nil {
		return out, fmt.Errorf("read the engine's events: %w", err)
	}
	defer evs.Close()
	for {
		m, err := evs.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read the engine's events: %w", err)
		}
		node := m.Actor.Attributes[naming.LabelNode]
		if t, asked := since[node]; !asked || time.Unix(0, m.TimeNano).Before(t) {
			continue
		}
		code, _ := strconv.Atoi(m.Actor.Attributes["exitCode"])
		out[node] = code
	}
}

// Watch follows the engine's event stream for the lab's containers until
// ctx ends, and sends on kick (never blocking) when one starts (docker
// restart, docker stop + start, netlab start, the restart policy): its
// namespace is new and unwired. The first stream starts at since, so that
// a start between up's end and the watcher's start is seen too. After an
// error (an engine restart) it follows the stream again, and asks for one
// rewiring: what started meanwhile sent no event the new stream will see.
func (d *Docker) Watch(ctx context.Context, lab string, since time.Time, kick chan<- struct{}) error {
	for first := true; ctx.Err() == nil; first = false {
		if err := ping(ctx, d.c); err != nil {
			log.Printf("%v; trying again in 2s", err)
			sleep(ctx, 2*time.Second)
			continue
		}
		f := dockerapi.Filters{"type": {"container"}, "event": {"start"}, "label": {naming.LabelLab + "=" + lab}}
		var from string
		if first { // a start between up's end and now is seen too
			from = strconv.FormatFloat(float64(since.UnixNano())/1e9, 'f', 3, 64)
		}
		evs, err := d.c.Events(ctx, f, from, "")
		if err != nil {
			if ctx.Err() == nil {
				log.Printf("event stream: %v; following it again", err)
			}
			sleep(ctx, time.Second)
			continue
		}
		if !first {
			// The engine was away (restarted, say): what started meanwhile
			// sent no event this stream will see. Rewire once.
			log.Printf("following the engine's events again; rewiring what started meanwhile")
			select {
			case kick <- struct{}{}:
			default:
			}
		}
		for {
			m, err := evs.Next()
			if err != nil {
				if ctx.Err() == nil {
					log.Printf("event stream: %v; following it again", err)
				}
				break
			}
			log.Printf("node %s started (container %s)", m.Actor.Attributes[naming.LabelNode], m.Actor.Attributes["name"])
			select {
			case kick <- struct{}{}:
			default: // a rewiring is due already
			}
		}
		evs.Close()
		sleep(ctx, time.Second)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
