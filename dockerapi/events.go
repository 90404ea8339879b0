package dockerapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// Event is one of the engine's events: what happened (Action: "start",
// "die", …) to what (Type "container"; Actor's ID and attributes: the
// container's name, its labels, a died container's exitCode), and when.
type Event struct {
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// Events is a stream of events.
type Events struct {
	body io.ReadCloser
	dec  *json.Decoder
}

// Next is the stream's next event; io.EOF once the stream ended (at
// until, when the request named one).
func (e *Events) Next() (Event, error) {
	var ev Event
	err := e.dec.Decode(&ev)
	return ev, err
}

// Close ends the stream.
func (e *Events) Close() error { return e.body.Close() }

// Events follows the engine's events that f selects, from since (Unix
// seconds, with a fraction; "" for now) until until ("" for as long as
// ctx lasts).
func (c *Client) Events(ctx context.Context, f Filters, since, until string) (*Events, error) {
	q := url.Values{}
	f.query(q)
	if since != "" {
		q.Set("since", since)
	}
	if until != "" {
		q.Set("until", until)
	}
	resp, err := c.do(ctx, http.MethodGet, "/events", q, nil)
	if err != nil {
		return nil, err
	}
	return &Events{body: resp.Body, dec: json.NewDecoder(resp.Body)}, nil
}
