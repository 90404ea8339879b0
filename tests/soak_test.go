package tests

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soakLab is a lab the soak test edits at random: a router r on a LAN
// with hosts, point-to-point links from the router to some hosts, an
// optional second network, routes, NAT, published ports and impairments.
type soakLab struct {
	hosts   []int          // host numbers: node hN, on the LAN at 10.80.0.N
	addr    map[int]int    // host -> its LAN address's last byte, when not N
	links   []int          // hosts with a link r:lN <-> hN:p0, 10.81.N.0/30
	impair  map[int]string // link host -> delay
	aux     bool           // network aux (10.82.0.0/24) with r and the first two hosts
	routes  map[int]bool   // host -> a route to 10.90.N.0/24 via r
	nat     bool           // r masquerades out of eth0
	publish map[int]int    // host -> host port published to its port 22
	next    int            // the next host number
}

func newSoakLab(n int) *soakLab {
	s := &soakLab{addr: map[int]int{}, impair: map[int]string{}, routes: map[int]bool{}, publish: map[int]int{}}
	for i := 1; i < n; i++ { // r and n-1 hosts
		s.hosts = append(s.hosts, i)
	}
	s.next = n
	s.links = []int{1, 2, 3}
	s.routes[4] = true
	return s
}

func (s *soakLab) yaml() string {
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	w("defaults: {image: netlab/tiny}")
	w("networks:")
	w("  lan: {subnet: 10.80.0.0/24}")
	if s.aux {
		w("  aux: {subnet: 10.82.0.0/24}")
	}
	w("nodes:")
	w("  r:")
	w("    forward: true")
	w("    interfaces:")
	w("      eth0: {network: lan, address: 10.80.0.254/24}")
	if s.aux {
		w("      eth1: {network: aux, address: 10.82.0.254/24}")
	}
	for _, h := range s.links {
		w("      l%d: {address: 10.81.%d.1/30}", h, h)
	}
	if s.nat {
		w("    nat: {masquerade: [eth0]}")
	}
	for i, h := range s.hosts {
		w("  h%d:", h)
		w("    interfaces:")
		last := h
		if a, ok := s.addr[h]; ok {
			last = a
		}
		w("      eth0: {network: lan, address: 10.80.0.%d/24}", last)
		if slices.Contains(s.links, h) {
			w("      p0: {address: 10.81.%d.2/30}", h)
		}
		if s.aux && i < 2 {
			w("      eth1: {network: aux}")
		}
		if s.routes[h] {
			w("    routes: [{to: 10.90.%d.0/24, via: 10.80.0.254}]", h)
		}
		if p, ok := s.publish[h]; ok {
			w("    publish: [\"%d:22\"]", p)
		}
	}
	if len(s.links) > 0 {
		w("links:")
		for _, h := range s.links {
			if d, ok := s.impair[h]; ok {
				w("  - {endpoints: [r:l%d, h%d:p0], delay: %s}", h, h, d)
			} else {
				w("  - [r:l%d, h%d:p0]", h, h)
			}
		}
	}
	return b.String()
}

// edit changes the lab in one of the ways a teacher would, and says how.
func (s *soakLab) edit(rng *rand.Rand) string {
	pick := func(list []int) int { return list[rng.Intn(len(list))] }
	for {
		switch rng.Intn(10) {
		case 0:
			h := s.next
			s.next++
			s.hosts = append(s.hosts, h)
			return fmt.Sprintf("add node h%d", h)
		case 1:
			if len(s.hosts) < 4 {
				continue
			}
			h := s.hosts[2+rng.Intn(len(s.hosts)-2)] // the first two may be on aux
			s.hosts = slices.DeleteFunc(s.hosts, func(x int) bool { return x == h })
			s.links = slices.DeleteFunc(s.links, func(x int) bool { return x == h })
			delete(s.routes, h)
			delete(s.publish, h)
			delete(s.impair, h)
			return fmt.Sprintf("remove node h%d", h)
		case 2:
			h := pick(s.hosts)
			if slices.Contains(s.links, h) {
				s.links = slices.DeleteFunc(s.links, func(x int) bool { return x == h })
				delete(s.impair, h)
				return fmt.Sprintf("remove link r-h%d", h)
			}
			s.links = append(s.links, h)
			return fmt.Sprintf("add link r-h%d", h)
		case 3:
			h := pick(s.hosts)
			if _, ok := s.addr[h]; ok {
				delete(s.addr, h)
			} else {
				s.addr[h] = 100 + h
			}
			return fmt.Sprintf("change the address of h%d", h)
		case 4:
			h := pick(s.hosts)
			s.routes[h] = !s.routes[h]
			return fmt.Sprintf("route of h%d: %v", h, s.routes[h])
		case 5:
			s.nat = !s.nat
			return fmt.Sprintf("nat: %v", s.nat)
		case 6:
			h := pick(s.hosts)
			if _, ok := s.publish[h]; ok {
				delete(s.publish, h)
				return fmt.Sprintf("unpublish h%d", h)
			}
			s.publish[h] = 30000 + os.Getpid()%100*200 + h
			return fmt.Sprintf("publish h%d on %d", h, s.publish[h])
		case 7:
			if len(s.links) == 0 {
				continue
			}
			h := pick(s.links)
			if _, ok := s.impair[h]; ok {
				delete(s.impair, h)
				return fmt.Sprintf("unimpair r-h%d", h)
			}
			s.impair[h] = []string{"5ms", "10ms", "20ms"}[rng.Intn(3)]
			return fmt.Sprintf("impair r-h%d: %s", h, s.impair[h])
		case 8:
			s.aux = !s.aux
			return fmt.Sprintf("network aux: %v", s.aux)
		case 9:
			h := pick(s.hosts)
			s.routes[h] = true
			s.addr[h] = 200 + h%50
			return fmt.Sprintf("h%d: new address and a route", h)
		}
	}
}

// TestSoak runs NETLAB_SOAK cycles (make soak: 100) on a 20-node lab:
// up, a random edit, up, a random node restarted (docker restart; on runc
// its process killed, which the watcher starts again) and rewired by the
// watcher, a check that the lab equals its file (diff says nothing, every
// node wired, a host reaches the router), down, and a count of what down
// left. It records failures instead of stopping at the first and prints
// the figures at the end. Skipped unless NETLAB_SOAK is set.
func TestSoak(t *testing.T) {
	serial(t) // its lab's cycles are timed
	cycles, _ := strconv.Atoi(os.Getenv("NETLAB_SOAK"))
	if cycles <= 0 {
		t.Skip("set NETLAB_SOAK=N (make soak) to run N cycles")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("NETLAB_SOAK_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d (NETLAB_SOAK_SEED=%d repeats this run)", seed, seed)
	name := labName(t)
	file := writeLab(t, name, "")
	l := &lab{t: t, name: name, file: file}
	var failures, leftoverCount int
	var upTimes, editTimes, rewireTimes, downTimes []time.Duration
	fail := func(cycle int, what string, f string, a ...any) {
		failures++
		t.Errorf("cycle %d (%s): "+f, append([]any{cycle, what}, a...)...)
	}
	timed := func(args ...string) (result, time.Duration) {
		start := time.Now()
		r := netlab(t, args...)
		return r, time.Since(start)
	}
	for cycle := 1; cycle <= cycles; cycle++ {
		s := newSoakLab(20)
		if err := os.WriteFile(file, []byte("name: "+name+"\n"+s.yaml()), 0o644); err != nil {
			t.Fatal(err)
		}
		r, d := timed("up", file)
		upTimes = append(upTimes, d)
		if r.code != 0 {
			fail(cycle, "up", "exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		what := s.edit(rng)
		if rng.Intn(2) == 0 {
			what += ", " + s.edit(rng)
		}
		os.WriteFile(file, []byte("name: "+name+"\n"+s.yaml()), 0o644)
		r, d = timed("up", file)
		editTimes = append(editTimes, d)
		if r.code != 0 {
			fail(cycle, what, "up on the edited file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		node := "h" + strconv.Itoa(s.hosts[rng.Intn(len(s.hosts))])
		restart := exec.Command("docker", "restart", "-t", "0", l.container(node))
		before := runcState(l.container(node)).Created // a runc node's run: a new one once started again
		if l.onRunc() {
			restart = exec.Command("runc", "--root", runcRoot, "kill", l.container(node), "KILL")
		}
		start := time.Now()
		if out, err := restart.CombinedOutput(); err != nil {
			fail(cycle, what, "%v: %v: %s", restart.Args, err, out)
		}
		wired := false
		for time.Since(start) < 10*time.Second {
			again := !l.onRunc() || (runcState(l.container(node)).Created != before && runcPidAlive(l.container(node)))
			if r := netlab(t, "status", name); again && r.code == 0 && !strings.Contains(r.stdout, "not wired") &&
				!strings.Contains(r.stdout, "missing") && !strings.Contains(r.stdout, "exited") {
				wired = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		rewireTimes = append(rewireTimes, time.Since(start))
		if !wired {
			fail(cycle, what, "%s not restarted and rewired 10 s after %v", node, restart.Args)
		}
		if r := netlab(t, "diff", file); r.code != 0 || !strings.Contains(r.stdout, "would change nothing") {
			fail(cycle, what, "the lab differs from its file after up:\n%s%s\n%s", r.stdout, r.stderr, s.yaml())
		}
		if out, code := l.exec(node, "ping", "-c", "1", "-W", "2", "10.80.0.254"); code != 0 {
			fail(cycle, what, "%s does not reach r: exit %d: %s", node, code, out)
		}
		r, d = timed("down", name)
		downTimes = append(downTimes, d)
		if r.code != 0 {
			fail(cycle, what, "down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if left := leftovers(name); left != "" {
			leftoverCount++
			fail(cycle, what, "down left: %s", left)
			netlab(t, "down", name)
		}
		t.Logf("cycle %d: %s; %s restarted", cycle, what, node)
	}
	med := func(ds []time.Duration) string {
		s := slices.Clone(ds)
		slices.Sort(s)
		return fmt.Sprintf("median %.2fs, max %.2fs", s[len(s)/2].Seconds(), s[len(s)-1].Seconds())
	}
	t.Logf("%d cycles of a 20-node lab: %d failures, %d with leftovers", cycles, failures, leftoverCount)
	t.Logf("up %s; up after an edit %s; restarted and rewired %s; down %s", med(upTimes), med(editTimes), med(rewireTimes), med(downTimes))
}
