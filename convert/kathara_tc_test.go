package convert

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseNetem(t *testing.T) {
	for _, c := range []struct {
		line string
		idx  int
		want impairment
		why  string // a part of the reason it is not mapped
	}{
		{line: "dev eth0 root netem delay 10ms", want: impairment{delay: "10ms"}},
		{line: "dev eth2 root netem delay 10ms 5ms", idx: 2, want: impairment{delay: "10ms", jitter: "5ms"}},
		{line: "dev eth0 root netem delay 10ms loss 10%", want: impairment{delay: "10ms", loss: "10%"}},
		{line: "dev eth1 root handle 1: netem loss random 0.5%", idx: 1, want: impairment{loss: "0.5%"}},
		{line: "dev eth0 root netem rate 1Mbit delay 1.5msec", want: impairment{rate: "1mbit", delay: "1.5ms"}},
		{line: "dev eth0 root netem delay 250", want: impairment{delay: "250us"}},
		{line: "dev eth0 root netem delay 1s 100usecs", want: impairment{delay: "1s", jitter: "100us"}},
		{line: "dev eth0 parent 1:1 netem delay 10ms", why: `"parent"`},
		{line: "dev eth0 netem delay 10ms", why: "no dev ethN with root"},
		{line: "dev lo root netem delay 10ms", why: "dev lo"},
		{line: "dev eth0 root netem delay 10ms 5ms 25%", why: "25%"},
		{line: "dev eth0 root netem duplicate 1%", why: "duplicate"},
		{line: "dev eth0 root netem delay 10ms distribution normal", why: "distribution"},
		{line: "dev eth0 root netem loss 10", why: "percentage"},
		{line: "dev eth0 root netem rate fast", why: "rate"},
		{line: "dev eth0 root netem delay", why: "delay needs"},
		{line: "dev eth0 root netem", why: "nothing to do"},
		{line: "dev eth0 root netem delay 7200s", why: "longer than"},
		{line: "dev eth0 root netem loss 120%", why: "percentage from 0 to 100"},
	} {
		idx, im, why := parseNetem(strings.Fields(c.line))
		switch {
		case c.why != "" && !strings.Contains(why, c.why):
			t.Errorf("%q: not mapped because %q, want a reason naming %q", c.line, why, c.why)
		case c.why == "" && (why != "" || idx != c.idx || im != c.want):
			t.Errorf("%q: eth%d %+v (%q), want eth%d %+v", c.line, idx, im, why, c.idx, c.want)
		}
	}
}

// A tc netem line in a device's startup impairs its collision domain,
// made a point-to-point link, and the startup runs without the line; a
// line that cannot be mapped is noted with its file and line, and runs.
func TestKatharaNetemToLink(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"lab.conf": `pc1[0]="A"
r1[0]="A"
r1[1]="B"
r1[2]="C"
pc2[0]="B"
s1[0]="C"
s2[0]="C"
`,
		"r1.startup": "ip address add 100.0.0.1/24 dev eth0\n" +
			"tc qdisc add dev eth0 root netem delay 10ms 5ms loss 10%\n" +
			"tc qdisc add dev eth1 root netem duplicate 5%\n" +
			"tc qdisc replace dev eth2 root netem delay 20ms\n" +
			"tc qdisc add dev eth1 root tbf rate 1mbit burst 32kbit latency 400ms\n",
		"pc1.startup": "tc qdisc add dev eth0 root netem delay 30ms\n",
		"pc2.startup": "ip address add 200.0.0.2/24 dev eth0\n",
	})
	_, notes, lab := convertKathara(t, dir)
	if len(lab.Links) != 1 {
		t.Fatalf("%d links, want 1 (domain A): %+v", len(lab.Links), lab.Links)
	}
	l := lab.Links[0]
	if l.Endpoints[0].String() != "pc1:eth0" || l.Endpoints[1].String() != "r1:eth0" ||
		l.Impair.Delay != 30*time.Millisecond || l.Impair.Jitter != 5*time.Millisecond || l.Impair.LossPercent != 10 {
		t.Errorf("link %v: %+v, want pc1:eth0 to r1:eth0 with the larger delay of its two ends (30ms), jitter 5ms, loss 10%%", l.Endpoints, l.Impair)
	}
	if _, ok := lab.Networks["A"]; ok || len(lab.Networks) != 2 {
		t.Errorf("networks %v: A is a link, B and C networks", lab.Networks)
	}
	if cmd := lab.Nodes["r1"].Command[0]; !strings.HasPrefix(cmd, "sed -e 2d /hostlab/r1.startup | sh;") {
		t.Errorf("r1's command %q: runs r1.startup without line 2", cmd)
	}
	if cmd := lab.Nodes["pc1"].Command[0]; !strings.HasPrefix(cmd, "sed -e 1d /hostlab/pc1.startup | sh;") {
		t.Errorf("pc1's command %q: runs pc1.startup without line 1", cmd)
	}
	if cmd := lab.Nodes["pc2"].Command[0]; !strings.HasPrefix(cmd, "sh /hostlab/pc2.startup;") {
		t.Errorf("pc2's command %q", cmd)
	}
	var text []string
	for _, n := range notes {
		text = append(text, n.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		filepath.Join(dir, "r1.startup") + ":2: r1: tc netem on eth0 is link A's impairment",
		filepath.Join(dir, "r1.startup") + ":3: r1: tc netem line not mapped (netem's duplicate",
		filepath.Join(dir, "r1.startup") + ":4: r1: tc netem on eth2 not mapped: collision domain C joins 3 interfaces",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("notes lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "tbf") || strings.Contains(all, ":5:") {
		t.Errorf("a tc line without netem is noted (it runs as written):\n%s", all)
	}
}
