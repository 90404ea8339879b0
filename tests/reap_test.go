package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeReapsOrphans: a node's command that starts a daemon the
// old-fashioned way (a shell that forks it and exits) leaves no zombie
// once the daemon ends: netlab's init stays the node's PID 1 and reaps
// what the kernel hands it. The command runs on as the init's child.
func TestNodeReapsOrphans(t *testing.T) {
	parallel(t)
	l := up(t, `defaults: {image: netlab/tiny}
nodes:
  a:
    command: sh -c "sleep 1 &"; sh -c "sleep 1 &"; exec sleep 600
`)
	pid := l.pid("a")
	ns, err := os.Readlink("/proc/" + pid + "/ns/pid")
	if err != nil {
		t.Fatalf("node a's pid namespace: %v", err)
	}
	init, _ := os.ReadFile("/proc/" + pid + "/cmdline")
	if !strings.HasPrefix(string(init), "/.netlab/init\x00_init\x00") {
		t.Errorf("node a's first process is %q, not netlab's init", bytes.ReplaceAll(init, []byte{0}, []byte{' '}))
	}
	// The daemons end after a second; give them three.
	var procs, zombies []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		procs, zombies = nodeProcesses(ns)
		if len(zombies) == 0 && len(procs) == 2 {
			break
		}
	}
	if len(zombies) > 0 {
		t.Errorf("zombies in node a: %s", strings.Join(zombies, ", "))
	}
	if len(procs) != 2 || !strings.Contains(procs[0]+procs[1], "(sleep)") {
		t.Errorf("node a runs %q, want its init and sleep 600", procs)
	}
	if out, code := l.exec("a", "true"); code != 0 {
		t.Errorf("exec in node a: exit %d %s", code, out)
	}
}

// nodeProcesses lists, from the host, the processes of a pid namespace
// ("pid (comm) state") and among them the zombies.
func nodeProcesses(ns string) (procs, zombies []string) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if link, err := os.Readlink(d + "/ns/pid"); err != nil || link != ns {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		end := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) == 0 {
			continue
		}
		p := string(stat[:end+1]) + " " + fields[0]
		procs = append(procs, p)
		if fields[0] == "Z" {
			zombies = append(zombies, p)
		}
	}
	return procs, zombies
}
