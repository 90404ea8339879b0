package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// ExecCreate makes an exec of argv in a running container, its output
// attached (and its input, with stdin), and returns the exec's ID.
func (c *Client) ExecCreate(ctx context.Context, id string, argv []string, stdin bool) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	body := map[string]any{"Cmd": argv, "AttachStdin": stdin, "AttachStdout": true, "AttachStderr": true}
	var out struct {
		ID string `json:"Id"`
	}
	err := c.call(ctx, http.MethodPost, "/containers/"+id+"/exec", nil, body, &out)
	return out.ID, err
}

// Attached is a started exec's connection: its output, multiplexed
// (Demux), to read; its input to write, CloseWrite to end it.
type Attached struct {
	conn   net.Conn
	Reader io.Reader
}

// Write writes to the command's input.
func (a *Attached) Write(p []byte) (int, error) { return a.conn.Write(p) }

// CloseWrite ends the command's input (it reads end of file).
func (a *Attached) CloseWrite() error {
	if cw, ok := a.conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection.
func (a *Attached) Close() error { return a.conn.Close() }

// ExecStart starts an exec and returns its connection: the engine takes
// the HTTP connection over for the command's input and output (the API's
// "hijacking"), so it is a connection of its own, not the client's pool.
func (c *Client) ExecStart(ctx context.Context, execID string) (*Attached, error) {
	if err := checkID(execID); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]bool{"Detach": false, "Tty": false})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/exec/"+execID+"/start", nil), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	conn, err := c.dial(ctx, "", "")
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		cfg := c.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(c.addr)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	// The context bounds the request and the answer's head; the stream
	// after is the caller's, closed by Close.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer conn.Close()
		return nil, readError(resp)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("exec %s: the engine answered %s, not a stream", execID, resp.Status)
	}
	return &Attached{conn: conn, Reader: br}, nil
}

// ExecExitCode is an exec's exit code, once its output has ended.
func (c *Client) ExecExitCode(ctx context.Context, execID string) (int, error) {
	if err := checkID(execID); err != nil {
		return 0, err
	}
	var out struct {
		ExitCode int
		Running  bool
	}
	if err := c.call(ctx, http.MethodGet, "/exec/"+execID+"/json", nil, nil, &out); err != nil {
		return 0, err
	}
	if out.Running {
		return 0, fmt.Errorf("exec %s: still running", execID)
	}
	return out.ExitCode, nil
}

// Demux parts a multiplexed stream (a container's logs, an exec's
// output: frames of an 8-byte head, the stream and the length, then the
// bytes) into stdout and stderr, until it ends. A frame of the engine's
// own error (stream 3) ends it with that error.
func Demux(stdout, stderr io.Writer, r io.Reader) error {
	var head [8]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(head[4:]))
		var w io.Writer
		switch head[0] {
		case 0, 1:
			w = stdout
		case 2:
			w = stderr
		case 3:
			msg, err := io.ReadAll(io.LimitReader(r, min(n, 64<<10)))
			if err != nil {
				return err
			}
			return fmt.Errorf("the engine: %s", bytes.TrimSpace(msg))
		default:
			return fmt.Errorf("output stream: frame of unknown stream %d", head[0])
		}
		k, err := io.CopyBuffer(w, io.LimitReader(r, n), buf)
		if err != nil {
			return err
		}
		if k < n {
			return io.ErrUnexpectedEOF
		}
	}
}
