// Package tests runs netlab end to end against the real kernel and Docker.
// It needs root and a Docker engine with the netlab/tiny image (make test
// sets them up). Without them the tests are skipped, unless NETLAB_E2E=1
// (as in CI), when they fail.
package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/dockerapi"
)

var netlabBin string

func TestMain(m *testing.M) {
	flag.Parse()
	why := prerequisites()
	if why != "" {
		if os.Getenv("NETLAB_E2E") == "1" {
			fmt.Fprintln(os.Stderr, "end-to-end tests cannot run:", why)
			os.Exit(1)
		}
		fmt.Println("skipping end-to-end tests:", why)
		os.Exit(0)
	}
	// The tests' temporary directories go with the run's (t.TempDir),
	// also when the watchdog ends it. Everyone may look in: a test runs
	// netlab as nobody.
	tmp := filepath.Join(runDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		panic(err)
	}
	os.Chmod(runDir, 0o755)
	os.Setenv("TMPDIR", tmp)
	netlabBin = filepath.Join(runDir, "netlab")
	// netlab and, beside it, the nodes' init, as make build does.
	build := exec.Command("go", "build", "-o", runDir, "../cmd/netlab", "../cmd/netlab-init")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build netlab: %v\n%s", err, out)
		os.RemoveAll(runDir)
		os.Exit(1)
	}
	removeStale()
	disarm := armWatchdog(testTimeout())
	code := m.Run()
	disarm()
	if left := labsOnHost(); slices.ContainsFunc(left, ours) {
		fmt.Fprintf(os.Stderr, "tests left labs behind: %v; removing them\n", slices.DeleteFunc(left, func(l string) bool { return !ours(l) }))
		code = 1
	}
	if left := removeOurs(2 * time.Minute); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "could not remove: %s\n", strings.Join(left, "; "))
		code = 1
	}
	os.RemoveAll(runDir)
	os.Exit(code)
}

func prerequisites() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if err := exec.Command("docker", "image", "inspect", "netlab/tiny").Run(); err != nil {
		return "no Docker engine or no netlab/tiny image (scripts/setup.sh makes both)"
	}
	return ""
}

// result of running netlab.
type result struct {
	code           int
	stdout, stderr string
}

// runtime is the runtime the tests bring labs up with: NETLAB_RUNTIME
// (docker, runc or kubernetes; "" is netlab's default, docker). make unit runs the
// suite on both.
var runtime = os.Getenv("NETLAB_RUNTIME")

// onRunc tells whether the tests run on the runc runtime.
func onRunc() bool { return runtime == "runc" }

// runcRoot is netlab's runc state directory.
const runcRoot = "/run/netlab/.runc"

// withRuntime adds --runtime to an up when NETLAB_RUNTIME is set.
func withRuntime(args []string) []string {
	if runtime == "" || len(args) == 0 || args[0] != "up" {
		return args
	}
	return append([]string{"up", "--runtime", runtime}, args[1:]...)
}

func netlab(t *testing.T, args ...string) result {
	t.Helper()
	return netlabRaw(t, withRuntime(args)...)
}

// netlabRaw runs netlab with args as given, NETLAB_RUNTIME or not.
func netlabRaw(t *testing.T, args ...string) result {
	t.Helper()
	return runBinRaw(t, netlabBin, args...)
}

// runBin runs a netlab binary other than the harness's, on the runtime
// the tests run on.
func runBin(t *testing.T, bin string, args ...string) result {
	t.Helper()
	return runBinRaw(t, bin, withRuntime(args)...)
}

// runBinRaw runs bin with args as they are, for at most two minutes.
func runBinRaw(t *testing.T, bin string, args ...string) result {
	t.Helper()
	return runEnv(t, nil, bin, args...)
}

// runEnv runs bin with args as they are and env added to the
// environment, for at most two minutes.
func runEnv(t *testing.T, env []string, bin string, args ...string) result {
	t.Helper()
	gate()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return r
}

// lab is a lab brought up for one test.
type lab struct {
	t       *testing.T
	name    string
	file    string
	runtime string // the lab's runtime when it is not NETLAB_RUNTIME's
}

// onRunc tells whether the lab runs on the runc runtime.
func (l *lab) onRunc() bool { return l.runtime == "runc" || (l.runtime == "" && onRunc()) }

// writeLab writes a lab file whose name: line is set to a unique name.
func writeLab(t *testing.T, name, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte("name: "+name+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// up brings a lab up and registers its removal, checked to leave nothing,
// whether the test passes or fails. env is added to up's environment (the
// lab file's variables).
func up(t *testing.T, body string, env ...string) *lab {
	t.Helper()
	return upWith(t, body, env)
}

// upWith is up with more flags for netlab up.
func upWith(t *testing.T, body string, env []string, flags ...string) *lab {
	t.Helper()
	l := &lab{t: t, name: labName(t)}
	l.file = writeLab(t, l.name, body)
	t.Cleanup(func() { l.down() })
	if r := runEnv(t, env, netlabBin, withRuntime(append(append([]string{"up"}, flags...), l.file))...); r.code != 0 {
		t.Fatalf("netlab up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return l
}

// stopWatcher stops the lab's watcher, for tests of what up repairs by
// hand; their ups then run with --no-watch.
func (l *lab) stopWatcher() {
	l.t.Helper()
	data, err := os.ReadFile("/run/netlab/" + l.name + "/watch.pid")
	if err != nil {
		l.t.Fatalf("no watcher: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// down removes the lab and checks that nothing of it is left.
func (l *lab) down() {
	t := l.t
	t.Helper()
	// The unpacked images stay for the next test (a runc lab's down
	// removes them otherwise: TestDownRemovesImageRoots).
	if r := netlab(t, "down", "--keep-cache", l.name); r.code != 0 {
		t.Errorf("netlab down %s: exit %d\n%s%s", l.name, r.code, r.stdout, r.stderr)
	}
	if left := leftovers(l.name); left != "" {
		t.Errorf("down %s left: %s", l.name, left)
	}
}

// dockerAPI is the Docker engine's client, for what the tests ask of
// Docker after every lab (a docker command's start costs more CPU).
var dockerAPI = sync.OnceValue(func() *dockerapi.Client {
	c, err := dockerapi.FromEnv()
	if err != nil || c.Ping(context.Background()) != nil {
		return nil
	}
	return c
})

// docker is the Docker engine's client, for a test that needs it.
func (l *lab) docker() *dockerapi.Client {
	l.t.Helper()
	c := dockerAPI()
	if c == nil {
		l.t.Fatal("no Docker engine client (DOCKER_HOST?)")
	}
	return c
}

// dockerContainers lists the ids of the lab's Docker containers, running
// or not (none without the engine).
func dockerContainers(lab string) []string {
	c := dockerAPI()
	if c == nil {
		return nil
	}
	list, err := c.List(context.Background(), dockerapi.Filters{"label": {"netlab.lab=" + lab}})
	if err != nil {
		return nil
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID[:12])
	}
	return ids
}

// leftovers lists what of a lab is still on the host: containers, host
// interfaces, firewall rules, run directory, forwarder, relay and DHCP
// server processes.
func leftovers(name string) string {
	var left []string
	if ids := dockerContainers(name); len(ids) > 0 {
		left = append(left, "containers "+strings.Join(ids, " "))
	}
	if states, _ := filepath.Glob(filepath.Join(runcRoot, name+"_*")); len(states) > 0 {
		left = append(left, "runc containers "+strings.Join(states, " "))
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), " /run/netlab/"+name+"/") ||
		strings.Contains(string(mounts), " /run/netlab/"+name+" ") { // its tmpfs, where /run is on a disk
		left = append(left, "mounts at or under /run/netlab/"+name)
	}
	out, _ := exec.Command("ip", "-d", "link", "show").Output()
	if strings.Contains(string(out), "alias netlab:"+name+":") {
		left = append(left, "host interfaces")
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		out, _ = exec.Command(tool, "-w", "-S", "FORWARD").Output()
		if strings.Contains(string(out), "netlab:"+name+":") {
			left = append(left, tool+" rules")
		}
	}
	if out, _ := exec.Command("nft", "list", "tables", "bridge").Output(); strings.Contains(string(out), "netlab-"+name+"\n") {
		left = append(left, "nftables table bridge netlab-"+name)
	}
	if _, err := os.Stat("/var/lib/netlab/up/" + name + ".json"); err == nil {
		left = append(left, "its record for restore, /var/lib/netlab/up/"+name+".json")
	}
	if _, err := os.Stat("/run/netlab/." + name + ".lock"); err == nil {
		left = append(left, "/run/netlab/."+name+".lock")
	}
	if _, err := os.Stat("/run/netlab/" + name); err == nil {
		left = append(left, "/run/netlab/"+name)
	}
	if _, err := os.Stat("/var/lib/netlab/labs/" + name); err == nil {
		left = append(left, "/var/lib/netlab/labs/"+name)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, _ := os.ReadFile(p)
		args := strings.Split(string(cmd), "\x00")
		if i := slices.Index(args, "--container"); len(args) > 1 && args[1] == "_forward" && i > 0 && i+1 < len(args) && strings.HasPrefix(args[i+1], name+"_") {
			left = append(left, "forwarder "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 3 && args[1] == "_watch" && args[3] == name {
			left = append(left, "watcher "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 1 && args[1] == "_relay" && strings.Contains(string(cmd), "/run/netlab/"+name+"/") {
			left = append(left, "relay "+filepath.Base(filepath.Dir(p)))
		}
		if len(args) > 1 && args[1] == "_dhcpd" && strings.Contains(string(cmd), "/run/netlab/"+name+"/") {
			left = append(left, "dhcp server "+filepath.Base(filepath.Dir(p)))
		}
	}
	return strings.Join(left, "; ")
}

// exec runs a command in a node (netlab exec, through the lab's runtime)
// and returns its output and exit code.
func (l *lab) exec(node string, cmd ...string) (string, int) {
	l.t.Helper()
	args := append([]string{"exec", l.name, node, "--"}, cmd...)
	gate()
	out, err := exec.Command(netlabBin, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("netlab %v: %v", args, err)
	}
	return string(out), 0
}

// container is a node's container name.
func (l *lab) container(node string) string { return l.name + "_" + node }

// bundle is a runc node's bundle directory.
func (l *lab) bundle(node string) string { return "/var/lib/netlab/labs/" + l.name + "/" + node }

// restart restarts a node's container as docker restart -t 1 does: a new
// process in new namespaces, unwired (its init waits) until netlab up or
// the watcher rewires it. On runc: runc kill, delete and run again.
func (l *lab) restart(node string) {
	l.t.Helper()
	if !l.onRunc() {
		if err := l.docker().Restart(context.Background(), l.container(node), 1); err != nil {
			l.t.Fatalf("docker restart %s: %v", l.container(node), err)
		}
		return
	}
	old := runcState(l.container(node)).Created
	l.kill(node)
	if l.watched() { // the watcher starts it again (and rewires it): a repair, which takes a while on a busy machine
		for i := 0; i < 600; i++ {
			if st := runcState(l.container(node)); st.Created != old && runcPidAlive(l.container(node)) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		l.t.Fatalf("the watcher did not start %s again within 30 s", node)
	}
	if out, err := exec.Command("runc", "--root", runcRoot, "delete", "--force", l.container(node)).CombinedOutput(); err != nil {
		l.t.Fatalf("runc delete: %v %s", err, out)
	}
	var logs [2]*os.File
	for i, name := range []string{"/stdout.log", "/stderr.log"} {
		f, err := os.OpenFile(l.bundle(node)+name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			l.t.Fatal(err)
		}
		defer f.Close()
		logs[i] = f
	}
	cmd := exec.Command("runc", "--root", runcRoot, "run", "--detach", "--bundle", l.bundle(node), l.container(node))
	cmd.Stdout, cmd.Stderr = logs[0], logs[1]
	if err := cmd.Run(); err != nil {
		l.t.Fatalf("runc run: %v", err)
	}
}

// watched tells whether the lab's watcher runs.
func (l *lab) watched() bool {
	data, err := os.ReadFile("/run/netlab/" + l.name + "/watch.pid")
	if err != nil {
		return false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// kill kills a node's process (SIGKILL) and waits until it is gone: the
// node stays down (a runc node) or its engine restarts it (Docker's
// restart policy).
func (l *lab) kill(node string) {
	l.t.Helper()
	if !l.onRunc() {
		if err := l.docker().Kill(context.Background(), l.container(node), "KILL"); err != nil {
			l.t.Fatalf("docker kill %s: %v", l.container(node), err)
		}
		return
	}
	if out, err := exec.Command("runc", "--root", runcRoot, "kill", l.container(node), "KILL").CombinedOutput(); err != nil {
		l.t.Fatalf("runc kill %s: %v %s", l.container(node), err, out)
	}
	for i := 0; i < 100 && runcPidAlive(l.container(node)); i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

// runcState is what runc keeps of a container (zero when it has none).
func runcState(id string) (st struct {
	Pid     int    `json:"init_process_pid"`
	Created string `json:"created"`
}) {
	data, _ := os.ReadFile(filepath.Join(runcRoot, id, "state.json"))
	json.Unmarshal(data, &st)
	return st
}

// id names the node's container: a made-again node gets a new one.
func (l *lab) id(node string) string {
	if l.onRunc() {
		return runcState(l.container(node)).Created
	}
	info, err := l.docker().Inspect(context.Background(), l.container(node))
	if err != nil {
		return ""
	}
	return info.ID
}

// runcPidAlive tells whether the init process of a runc container runs:
// a zombie does not, unless other threads of it do (it is exec'ing from
// one of them).
func runcPidAlive(id string) bool {
	st := runcState(id)
	if st.Pid == 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.Pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(f) > 17 && f[0] != "X" && (f[0] != "Z" || f[17] != "1")
}

// stop stops a node (docker stop -t 1, netlab stop on runc).
func (l *lab) stop(node string) {
	l.t.Helper()
	if !l.onRunc() {
		if err := l.docker().Stop(context.Background(), l.container(node), 1); err != nil {
			l.t.Fatalf("docker stop %s: %v", l.container(node), err)
		}
		return
	}
	if out, err := exec.Command(netlabBin, "stop", l.name, node).CombinedOutput(); err != nil {
		l.t.Fatalf("netlab stop %s %s: %v %s", l.name, node, err, out)
	}
}

// stopNow stops a node at once (docker stop -t 0; runc kill KILL).
func (l *lab) stopNow(node string) {
	l.t.Helper()
	if l.onRunc() {
		l.kill(node)
		return
	}
	if err := l.docker().Stop(context.Background(), l.container(node), 0); err != nil {
		l.t.Fatalf("docker stop %s: %v", l.container(node), err)
	}
}

// remove removes a node's container behind netlab's back (docker rm -f;
// on runc: runc delete, unmount and remove the bundle).
func (l *lab) remove(node string) {
	l.t.Helper()
	if !l.onRunc() {
		l.docker().Remove(context.Background(), l.container(node))
		return
	}
	exec.Command("runc", "--root", runcRoot, "delete", "--force", l.container(node)).Run()
	exec.Command("umount", "-l", l.bundle(node)+"/rootfs").Run()
	os.RemoveAll(l.bundle(node))
}

// exists tells whether the node has a container.
func (l *lab) exists(node string) bool {
	if l.onRunc() {
		_, err := os.Stat(l.bundle(node) + "/config.json")
		return err == nil
	}
	_, err := l.docker().Inspect(context.Background(), l.container(node))
	return err == nil
}

// ping pings from a node, with retries for neighbour discovery.
func (l *lab) ping(node, addr string) bool {
	l.t.Helper()
	family := "-4"
	if strings.Contains(addr, ":") {
		family = "-6" // busybox and iputils both take it; iputils has no ping6
	}
	for i := 0; i < 3; i++ {
		if _, code := l.exec(node, "ping", family, "-c", "1", "-W", "2", addr); code == 0 {
			return true
		}
	}
	return false
}

// reaches tells whether a node gets any reply to a burst of 3 pings, 0.2 s
// apart, within 1 s of the last: the question of a test that expects no
// reply, in 1.4 s where ping's retries take 6. Three probes, not one: the
// first may wait on neighbour discovery.
func (l *lab) reaches(node, addr string) bool {
	l.t.Helper()
	family := "-4"
	if strings.Contains(addr, ":") {
		family = "-6"
	}
	out, _ := l.exec(node, "ping", family, "-c", "3", "-i", "0.2", "-W", "1", addr)
	return strings.Contains(out, " bytes from ")
}

func (l *lab) mustPing(node, addr string) {
	l.t.Helper()
	if !l.ping(node, addr) {
		l.t.Errorf("%s cannot ping %s", node, addr)
	}
}

// httpGet fetches a URL path with nc from a node (busybox's static wget
// crashes), returning the body.
func (l *lab) httpGet(node, host, port, path string) string {
	l.t.Helper()
	// The server starts once its node is wired, so give it a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if body := l.httpGetOnce(node, host, port, path); body != "" || time.Now().After(deadline) {
			return body
		}
	}
}

func (l *lab) httpGetOnce(node, host, port, path string) string {
	out, _ := l.exec(node, "sh", "-c", fmt.Sprintf(`printf 'GET %s HTTP/1.0\r\n\r\n' | nc -w 3 %s %s`, path, host, port))
	out = strings.ReplaceAll(out, "\r\n", "\n")
	i := strings.Index(out, "\n\n")
	if i < 0 {
		return ""
	}
	// httpd listens on IPv6 too: IPv4 clients show as [::ffff:a.b.c.d].
	body := strings.TrimSpace(out[i+2:])
	return strings.TrimPrefix(strings.Trim(body, "[]"), "::ffff:")
}

// A web server whose /cgi-bin/ip answers with the client's address.
const webServer = `["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $$REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"]`
