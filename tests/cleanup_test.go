package tests

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// What a run leaves behind is found by name, whatever ended it: every lab
// a test brings up is named nlt<pid>-<test> (labName), every host
// interface a test makes itself nlt<kind><pid> (hostIfName), and the
// netlab build and the tests' temporary directories are under
// /tmp/netlab-e2e-<pid> (runDir). TestMain removes what runs whose
// process is gone left, runs the tests with a watchdog that removes this
// run's labs before go test's -timeout kills the process, and removes
// them again at the end.

// labPrefix starts the name of every lab this run brings up.
var labPrefix = fmt.Sprintf("nlt%d-", os.Getpid())

var (
	testLabRe = regexp.MustCompile(`^nlt(\d+)-`)         // a lab of a test run
	testIfRe  = regexp.MustCompile(`^nlt[a-z]+(\d+)`)    // a host interface a test made
	runDirRe  = regexp.MustCompile(`^netlab-e2e-(\d+)$`) // a run's directory in /tmp
)

// runDir, in the system's temporary directory (tmpBase), holds this
// run's netlab build and, as TMPDIR, its tests' temporary directories.
var (
	tmpBase = os.TempDir()
	runDir  = filepath.Join(tmpBase, fmt.Sprintf("netlab-e2e-%d", os.Getpid()))
)

// hostIfName is a host interface name of this run's: nlt, a kind of at
// most 3 letters, the process id (at most 13 bytes, leaving room for a
// peer's "p" or a VLAN's ".10").
func hostIfName(kind string) string { return fmt.Sprintf("nlt%s%d", kind, os.Getpid()) }

var named struct {
	sync.Mutex
	byName map[string]string // lab name -> the test that named it
}

// labName is the name of the test's lab: labPrefix and the test's name,
// unique among this run's tests (and failing the test if not), and a
// valid label.
func labName(t *testing.T) string {
	t.Helper()
	base := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	base = regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(base, "-")
	if len(base) > 30 {
		base = base[:30]
	}
	name := labPrefix + strings.Trim(base, "-")
	named.Lock()
	defer named.Unlock()
	if named.byName == nil {
		named.byName = map[string]string{}
	}
	if other, ok := named.byName[name]; ok && other != t.Name() {
		t.Fatalf("tests %s and %s both get lab name %s: make their names differ in the first 30 letters", other, t.Name(), name)
	}
	named.byName[name] = t.Name()
	return name
}

// ours tells whether a lab is this run's.
func ours(lab string) bool { return strings.HasPrefix(lab, labPrefix) }

// stale tells whether a name carries the process id of a test run that
// is over: no process of that id, or one that is not a test binary.
func stale(re *regexp.Regexp, name string) bool {
	m := re.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, _ := strconv.Atoi(m[1])
	if pid == os.Getpid() {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err != nil || !strings.HasSuffix(strings.TrimSpace(string(comm)), ".test")
}

// labsOnHost lists the labs that have anything on the host: containers,
// runc containers, run directories and lock files, host interfaces,
// firewall rules and isolation tables (what leftovers looks for).
func labsOnHost() []string {
	set := map[string]bool{}
	out, _ := exec.Command("docker", "ps", "-a", "--filter", "label=netlab.lab", "--format", `{{.Label "netlab.lab"}}`).Output()
	for _, l := range strings.Fields(string(out)) {
		set[l] = true
	}
	if des, err := os.ReadDir("/run/netlab"); err == nil {
		for _, de := range des {
			if n := de.Name(); !strings.HasPrefix(n, ".") {
				set[n] = true
			} else if strings.HasSuffix(n, ".lock") {
				set[strings.TrimSuffix(strings.TrimPrefix(n, "."), ".lock")] = true
			}
		}
	}
	if des, err := os.ReadDir(runcRoot); err == nil {
		for _, de := range des {
			if l, _, ok := strings.Cut(de.Name(), "_"); ok {
				set[l] = true
			}
		}
	}
	aliases, _ := filepath.Glob("/sys/class/net/*/ifalias")
	for _, a := range aliases {
		data, _ := os.ReadFile(a)
		if rest, ok := strings.CutPrefix(string(data), "netlab:"); ok {
			if l, _, ok := strings.Cut(rest, ":"); ok {
				set[l] = true
			}
		}
	}
	comment := regexp.MustCompile(`netlab:([A-Za-z0-9-]+):`)
	for _, tool := range []string{"iptables", "ip6tables"} {
		out, _ := exec.Command(tool, "-w", "-S", "FORWARD").Output()
		for _, m := range comment.FindAllStringSubmatch(string(out), -1) {
			set[m[1]] = true
		}
	}
	out, _ = exec.Command("nft", "list", "tables", "bridge").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if l, ok := strings.CutPrefix(line, "table bridge netlab-"); ok {
			set[l] = true
		}
	}
	var labs []string
	for l := range set {
		labs = append(labs, l)
	}
	sort.Strings(labs)
	return labs
}

// removeLabs runs netlab down on every lab on the host that which
// selects, four at a time, each for at most limit, and returns what is
// left of them after that.
func removeLabs(which func(string) bool, limit time.Duration) []string {
	var mu sync.Mutex
	var left []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, l := range labsOnHost() {
		if !which(l) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			out, err := exec.CommandContext(ctx, netlabBin, "down", "--keep-cache", l).CombinedOutput()
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(os.Stderr, "netlab down %s: %s", l, out)
			if what := leftovers(l); err != nil || what != "" {
				left = append(left, fmt.Sprintf("%s (down: %v; left: %s)", l, err, what))
			}
		}()
	}
	wg.Wait()
	return left
}

// removeHostIfs removes the host interfaces tests made that which selects.
func removeHostIfs(which func(string) bool) {
	des, _ := os.ReadDir("/sys/class/net")
	for _, de := range des {
		if n := de.Name(); testIfRe.MatchString(n) && which(n) {
			if out, err := exec.Command("ip", "link", "del", n).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find") {
				fmt.Fprintf(os.Stderr, "remove host interface %s: %v %s", n, err, out)
			}
		}
	}
}

// removeStale removes what test runs whose process is gone left: their
// labs, host interfaces and run directories.
func removeStale() {
	if left := removeLabs(func(l string) bool { return stale(testLabRe, l) }, 2*time.Minute); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "labs of earlier test runs that down could not remove: %s\n", strings.Join(left, "; "))
	}
	removeHostIfs(func(n string) bool { return stale(testIfRe, n) })
	des, _ := os.ReadDir(tmpBase)
	for _, de := range des {
		if stale(runDirRe, de.Name()) {
			os.RemoveAll(filepath.Join(tmpBase, de.Name()))
		}
	}
}

// removeOurs removes this run's labs and host interfaces, and returns the
// labs that down could not remove.
func removeOurs(limit time.Duration) []string {
	left := removeLabs(ours, limit)
	mine := strconv.Itoa(os.Getpid())
	removeHostIfs(func(n string) bool { return testIfRe.FindStringSubmatch(n)[1] == mine })
	return left
}

// running holds the tests that run now, and since when (begin).
var running struct {
	sync.Mutex
	since map[string]time.Time
}

// parallel runs the test beside the other parallel tests: its labs have
// names, host ports and host interfaces of their own, and it asserts
// nothing about the host as a whole. Every end-to-end test starts with
// parallel or serial.
func parallel(t *testing.T) {
	t.Helper()
	t.Parallel()
	begin(t)
}

// serial runs the test alone: it asserts something of the whole host (or
// of netlab's shared state) that the other tests' labs would change.
// Go runs the top-level serial tests first, one by one, and the parallel
// ones after them.
func serial(t *testing.T) {
	t.Helper()
	begin(t)
}

// begin records the test as running, for the watchdog's report.
func begin(t *testing.T) {
	running.Lock()
	defer running.Unlock()
	if running.since == nil {
		running.since = map[string]time.Time{}
	}
	running.since[t.Name()] = time.Now()
	t.Cleanup(func() {
		running.Lock()
		defer running.Unlock()
		delete(running.since, t.Name())
	})
}

// runningTests lists the running tests and how long they have run.
func runningTests() string {
	running.Lock()
	defer running.Unlock()
	var list []string
	for name, since := range running.since {
		list = append(list, fmt.Sprintf("%s (for %s)", name, time.Since(since).Round(time.Second)))
	}
	sort.Strings(list)
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// stopping is set once the watchdog removes the run's labs: no test may
// run netlab after that (gate).
var stopping atomic.Bool

// gate stops a test's goroutine for good once the watchdog fired, so that
// no test brings a lab up again while the watchdog takes them down.
func gate() {
	if stopping.Load() {
		select {}
	}
}

// testTimeout is go test's -timeout (0: none). TestMain parses the flags.
func testTimeout() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	d, _ := f.Value.(flag.Getter).Get().(time.Duration)
	return d
}

// armWatchdog starts the watchdog: a minute (a quarter, for a timeout
// under four minutes) before go test's -timeout would panic the process,
// where no deferred call or cleanup runs, it prints the running tests and
// every goroutine, kills the processes the tests started, removes this
// run's labs and exits with code 1. It returns the function that
// disarms it.
func armWatchdog(timeout time.Duration) (disarm func()) {
	if timeout <= 0 {
		return func() {}
	}
	margin := min(time.Minute, timeout/4)
	timer := time.AfterFunc(timeout-margin, func() {
		stopping.Store(true)
		fmt.Fprintf(os.Stderr, "\n=== netlab end-to-end tests: %s of go test's -timeout %s have passed\n", timeout-margin, timeout)
		fmt.Fprintf(os.Stderr, "running: %s\n\n", runningTests())
		buf := make([]byte, 8<<20)
		buf = buf[:goruntime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "%s\n\n", buf)
		fmt.Fprintf(os.Stderr, "=== removing this run's labs\n")
		killChildren()
		left := removeOurs(margin / 3)
		killChildren() // what a test started meanwhile
		left = append(left, removeOurs(margin/3)...)
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "could not remove: %s\n", strings.Join(left, "; "))
		}
		os.RemoveAll(runDir)
		fmt.Fprintf(os.Stderr, "FAIL: the tests did not finish within -timeout %s less %s\n", timeout, margin)
		os.Exit(1)
	})
	return func() { timer.Stop() }
}

// killChildren kills (SIGKILL) the processes this process started that
// still run: a netlab up killed half-way leaves a state that down
// removes, and no up waits for a lab's lock meanwhile.
func killChildren() {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		data, err := os.ReadFile(s)
		i := bytes.LastIndexByte(data, ')')
		if err != nil || i < 0 {
			continue
		}
		if f := strings.Fields(string(data[i+1:])); len(f) > 1 && f[1] == self {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestEveryTestSaysHowItRuns: each test of this package starts with
// parallel(t) or serial(t), so that it is run as its labs allow and the
// watchdog can name it.
func TestEveryTestSaysHowItRuns(t *testing.T) {
	parallel(t)
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			first := ""
			if len(fn.Body.List) > 0 {
				if es, ok := fn.Body.List[0].(*ast.ExprStmt); ok {
					if call, ok := es.X.(*ast.CallExpr); ok {
						if id, ok := call.Fun.(*ast.Ident); ok {
							first = id.Name
						}
					}
				}
			}
			if first != "parallel" && first != "serial" {
				t.Errorf("%s: %s does not start with parallel(t) or serial(t)", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
}
