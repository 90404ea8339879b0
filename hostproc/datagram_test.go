package hostproc

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func TestDatagramFrames(t *testing.T) {
	var b bytes.Buffer
	for _, p := range [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{7}, 65535)} {
		if err := writeDatagram(&b, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeDatagram(&b, make([]byte, 65536)); err == nil {
		t.Error("a datagram of 65536 bytes was framed")
	}
	buf := make([]byte, 65535)
	for _, want := range []int{3, 0, 65535} {
		n, err := readDatagram(&b, buf)
		if err != nil || n != want {
			t.Fatalf("read %d bytes, %v; want %d", n, err, want)
		}
	}
	if _, err := readDatagram(&b, buf); err != io.EOF {
		t.Errorf("at the end: %v, want EOF", err)
	}
	b.Write([]byte{0, 5, 'a'})
	if _, err := readDatagram(&b, buf); err != io.ErrUnexpectedEOF {
		t.Errorf("a cut datagram: %v, want unexpected EOF", err)
	}
}

// ServeUDP, in this process's own namespace, to an echo server on the
// loopback: the first address refuses, the datagram goes to the next.
func TestServeUDP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a namespace needs root")
	}
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	port := echo.LocalAddr().(*net.UDPAddr).Port
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- ServeUDP(os.Getpid(), []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")}, port, inR, outW)
		outW.Close()
	}()
	go func() {
		for _, p := range []string{"a", "b"} {
			writeDatagram(inW, []byte(p))
			time.Sleep(300 * time.Millisecond)
		}
	}()
	buf := make([]byte, 65535)
	var got []string
	for len(got) < 2 {
		n, err := readDatagram(outR, buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	if got[0] != "echo a" || got[1] != "echo b" {
		t.Errorf("answers %q", got)
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeUDP at the end of its input: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("ServeUDP did not end with its input")
	}
}
