package spec

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// addLabSeeds seeds a fuzz target with the bundled labs and the invalid
// fixtures.
func addLabSeeds(f *testing.F) {
	for _, pattern := range []string{"../labs/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzParse: any input either loads or fails with problems that wrap
// ErrInvalid; it never panics. Seeds are the labs and the invalid fixtures.
func FuzzParse(f *testing.F) {
	addLabSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lab, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if len(Problems(err)) == 0 {
				t.Fatalf("error lists no problems: %v", err)
			}
			return
		}
		for _, n := range lab.Nodes {
			if n.Name == "" || n.Image == "" {
				t.Fatalf("loaded node without name or image: %+v", n)
			}
			for _, i := range n.Interfaces {
				if i.Network == "" && i.Link == nil {
					t.Fatalf("loaded unconnected interface %s:%s", n.Name, i.Name)
				}
			}
		}
	})
}

// A "billion laughs" document is refused quickly, not expanded.
func TestAliasBomb(t *testing.T) {
	src := "name: x\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nnodes: {n: {image: *g}}\n"
	_, err := Parse([]byte(src), "bomb.yaml")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want a problem, got %v", err)
	}
}

// FuzzParseCost: no input costs more than 256 MB of allocations or 2 s to
// load (or to refuse). Seeds add the shapes that once did: deep flow
// collections, aliases of long strings, a billion laughs.
func FuzzParseCost(f *testing.F) {
	addLabSeeds(f)
	f.Add([]byte(strings.Repeat("[", 5000)))
	f.Add([]byte("name: x\nnodes: " + strings.Repeat("{a: ", 2000)))
	f.Add([]byte("a: &a " + strings.Repeat("x", 4000) + "\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*a, *a]\nd: [*c, *c, *c, *c]\n"))
	f.Add([]byte("x: &x [1,1,1,1,1,1,1,1,1,1]\ny: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\nz: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\nnodes: {n: {image: *z}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Parse(data, "fuzz.yaml")
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
			t.Fatalf("%d bytes of input allocated %d MB", len(data), alloc>>20)
		}
		if took > 2*time.Second {
			t.Fatalf("%d bytes of input took %v", len(data), took)
		}
		if err != nil && len(err.Error()) > 64*len(data)+(64<<10) {
			t.Fatalf("%d bytes of input gave %d bytes of problems", len(data), len(err.Error()))
		}
	})
}

// FuzzPublish: a published port is accepted only with ports from 1 to
// 65535, tcp or udp, and a zone (if any) that is an interface name.
func FuzzPublish(f *testing.F) {
	for _, s := range []string{"2201:22", "127.0.0.1:8080:80", "5353:53/udp", "[::1]:80:80", "[fe80::1%eth0]:80:80/tcp",
		"[fe80::1%/../../tmp/x]:8080:80/tcp", "0.0.0.0:1:65535", ":80", "80", "a:b:c:d/e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePublish(s)
		if err != nil {
			return
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.NodePort < 1 || p.NodePort > 65535 || (p.Proto != "tcp" && p.Proto != "udp") {
			t.Fatalf("%q accepted as %+v", s, p)
		}
		if z := p.HostIP.Zone(); z != "" && ifNameProblem(z) != "" {
			t.Fatalf("%q accepted with zone %q", s, z)
		}
	})
}

// FuzzImpairment: an accepted impairment is one the relay can apply:
// delay and jitter at most MaxImpairDelay, a finite loss from 0 to 100, a
// rate up to MaxRateBytes.
func FuzzImpairment(f *testing.F) {
	f.Add("20ms", "5ms", "1%", "10mbit")
	f.Add("1ms", "2562047h", "NaN", "99999999999999999999gbit")
	f.Add("", "", "+Inf", "0.0001bit")
	f.Add("-1s", "1h", "100", "1tbit")
	f.Fuzz(func(t *testing.T, delay, jitter, loss, rate string) {
		l := &Link{HostEnd: -1}
		if err := l.SetImpairment(delay, jitter, loss, rate); err != nil {
			return
		}
		i := l.Impair
		if i.Delay < 0 || i.Delay > MaxImpairDelay || i.Jitter < 0 || i.Jitter > MaxImpairDelay ||
			math.IsNaN(i.LossPercent) || i.LossPercent < 0 || i.LossPercent > 100 || i.RateBytes > MaxRateBytes {
			t.Fatalf("accepted %q %q %q %q as %+v", delay, jitter, loss, rate, i)
		}
	})
}
