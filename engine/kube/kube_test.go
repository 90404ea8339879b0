package kube

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
)

func TestNames(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, tc := range []struct{ got, want string }{
		{Namespace("fopnp"), "netlab-fopnp"},
		{PodName("h1"), "h1"},
		{PodName("modemA"), "modema-" + PodName("modemA")[7:]},
		{Namespace(long), "netlab-" + long[:47] + "-" + Namespace(long)[55:]},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
		if len(tc.got) > 63 || strings.ToLower(tc.got) != tc.got {
			t.Errorf("%q is no Kubernetes name (lower case, at most 63)", tc.got)
		}
	}
	if PodName("modemA") == PodName("modema") {
		t.Errorf("modemA and modema share pod name %q", PodName("modema"))
	}
	if ns, pod, err := splitID("x_modemA"); err != nil || ns != "netlab-x" || pod != PodName("modemA") {
		t.Errorf("splitID: %q %q %v", ns, pod, err)
	}
	if _, _, err := splitID("h1"); err == nil {
		t.Error("splitID(h1): no error")
	}
}

func TestImageNames(t *testing.T) {
	for image, want := range map[string][]string{
		"busybox":             {"busybox", "busybox:latest", "docker.io/library/busybox:latest"},
		"netlab/tiny":         {"netlab/tiny", "netlab/tiny:latest", "docker.io/netlab/tiny:latest"},
		"netlab.local/tiny:1": {"netlab.local/tiny:1"},
		"localhost/x:2":       {"localhost/x:2"},
	} {
		if got := imageNames(image); !slices.Equal(got, want) {
			t.Errorf("imageNames(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestPodSpec(t *testing.T) {
	c := &planner.Container{
		Name: "lab_r1", Image: "netlab/router", Command: []string{"sleep", "infinity"},
		Env: map[string]string{"B": "2", "A": "1"}, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"},
		CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"MKNOD"},
		Labels: map[string]string{naming.LabelLab: "lab", naming.LabelNode: "r1", naming.LabelFile: "/x/lab.yaml"},
	}
	hosts := []planner.Host{{Addr: netip.MustParseAddr("10.0.0.1"), Names: []string{"r1", "modemA"}}}
	argv, _, err := engine.NodeArgv(c, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := podSpec("lab", c, hosts, "/var/lib/netlab/init/netlab-x/netlab-init", argv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctr := pod.Spec.Containers[0]
	if want := []string{nodeinit.Path, "_init", "--", "sleep", "infinity"}; !slices.Equal(ctr.Command, want) {
		t.Errorf("command %q, want %q", ctr.Command, want)
	}
	if pod.Name != "r1" || pod.Labels[naming.LabelLab] != "lab" || pod.Annotations[naming.LabelFile] != "/x/lab.yaml" {
		t.Errorf("name %q labels %v annotations %v", pod.Name, pod.Labels, pod.Annotations)
	}
	if ctr.Env[0].Name != "A" || ctr.Env[1].Name != "B" {
		t.Errorf("env not sorted: %v", ctr.Env)
	}
	if caps := ctr.SecurityContext.Capabilities; !slices.Equal(caps.Add, []corev1.Capability{"NET_ADMIN"}) || !slices.Equal(caps.Drop, []corev1.Capability{"MKNOD"}) {
		t.Errorf("capabilities %v", caps)
	}
	if s := pod.Spec.SecurityContext.Sysctls; len(s) != 1 || s[0].Name != "net.ipv4.ip_forward" {
		t.Errorf("sysctls %v", s)
	}
	if a := pod.Spec.HostAliases; len(a) != 1 || a[0].IP != "10.0.0.1" || !slices.Equal(a[0].Hostnames, []string{"r1", "modema"}) {
		t.Errorf("host aliases %v", a)
	}
	if h := podHostname("WWW.example.com"); h != "www" {
		t.Errorf("podHostname: %q, want www", h)
	}
	if _, ok := pod.Annotations[hostnameAnnotation]; ok {
		t.Errorf("r1's pod records a host name: %v", pod.Annotations)
	}
	c.Hostname = "www.example.com"
	if p, err := podSpec("lab", c, hosts, "/init", argv, nil); err != nil || p.Spec.Hostname != "www" ||
		p.Annotations[hostnameAnnotation] != "www.example.com" || c.Labels[hostnameAnnotation] != "" {
		t.Errorf("host name www.example.com: %v, pod's %q, annotations %v", err, p.Spec.Hostname, p.Annotations)
	}
	c.Hostname = ""
	if pod.Spec.DNSPolicy != corev1.DNSDefault || pod.Spec.DNSConfig != nil {
		t.Errorf("dns %s %v, want the host's", pod.Spec.DNSPolicy, pod.Spec.DNSConfig)
	}
	c.DNS, c.DNSSearch = []string{"10.1.1.1"}, []string{"example.com"}
	if p, err := podSpec("lab", c, hosts, "/init", argv, nil); err != nil || p.Spec.DNSPolicy != corev1.DNSNone ||
		!slices.Equal(p.Spec.DNSConfig.Nameservers, c.DNS) || !slices.Equal(p.Spec.DNSConfig.Searches, c.DNSSearch) {
		t.Errorf("the node's dns: %v %+v", err, p.Spec)
	}
	c.DNS, c.DNSSearch = nil, nil
	if pod.Spec.NodeName != "" {
		t.Errorf("a node without host: pinned to %q", pod.Spec.NodeName)
	}
	if a := pod.Spec.Affinity; a == nil || a.PodAffinity == nil || len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchLabels[naming.LabelLab] != "lab" {
		t.Errorf("a node without host: affinity %+v, want one preferred to the lab's pods' host", a)
	}
	c.Host = "netlab-h2"
	if p, err := podSpec("lab", c, hosts, "/init", argv, nil); err != nil || p.Spec.NodeName != "netlab-h2" || p.Spec.Affinity != nil {
		t.Errorf("host: netlab-h2: %v, pinned to %q, affinity %+v", err, p.Spec.NodeName, p.Spec.Affinity)
	}
	c.Host = ""
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restart policy %s", pod.Spec.RestartPolicy)
	}
	c.Volumes, c.HostAllowed = []string{"/etc:/y"}, true
	pod, err = podSpec("lab", c, nil, "/init", argv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, m := pod.Spec.Volumes[2], pod.Spec.Containers[0].VolumeMounts[2]; v.HostPath == nil || v.HostPath.Path != "/etc" || m.MountPath != "/y" || m.ReadOnly {
		t.Errorf("host volume %+v mounted %+v", v, m)
	}
	c.Volumes, c.HostAllowed = []string{"data:/y"}, true
	if _, err := podSpec("lab", c, nil, "/init", argv, nil); err == nil || !strings.Contains(err.Error(), "host paths") {
		t.Errorf("a named volume: %v", err)
	}
}

// TestFilesMap: a node's files are a ConfigMap whose items place them as a
// tree under the node's root, mounted read-only where netlab's init copies
// them from; no files, no ConfigMap; a relative path or too much is refused.
func TestFilesMap(t *testing.T) {
	c := &planner.Container{Name: "lab_r1", Files: map[string]string{"/etc/frr/frr.conf": "hostname r1\n", "/etc/frr/daemons": "ospfd=yes\n"}}
	cm, vol, err := filesMap("lab", "r1", c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "r1-files" || cm.Labels[naming.LabelLab] != "lab" || len(cm.Data) != 2 {
		t.Errorf("ConfigMap %s %v %v", cm.Name, cm.Labels, cm.Data)
	}
	for _, it := range vol.ConfigMap.Items {
		want := c.Files["/"+it.Path]
		if cm.Data[it.Key] != want || want == "" {
			t.Errorf("item %s -> %s holds %q, want %q", it.Key, it.Path, cm.Data[it.Key], want)
		}
	}
	pod, err := podSpec("lab", c, nil, "/init", []string{"sh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	withFiles(pod, vol)
	if got := strings.Join(pod.Spec.Containers[0].Command, " "); got != nodeinit.Path+" _init --files "+nodeinit.FilesDir+" -- sh" {
		t.Errorf("command %q", got)
	}
	m := pod.Spec.Containers[0].VolumeMounts
	if last := m[len(m)-1]; last.MountPath != nodeinit.FilesDir || !last.ReadOnly || last.Name != vol.Name {
		t.Errorf("mount %+v", last)
	}
	if cm, vol, err := filesMap("lab", "h1", &planner.Container{Name: "lab_h1"}, nil); cm != nil || vol != nil || err != nil {
		t.Errorf("no files: %v %v %v", cm, vol, err)
	}
	if _, _, err := filesMap("lab", "r1", &planner.Container{Name: "lab_r1", Files: map[string]string{"etc/x": "y"}}, nil); err == nil {
		t.Error("a relative path was taken")
	}
	if _, _, err := filesMap("lab", "r1", &planner.Container{Name: "lab_r1", Files: map[string]string{"/x": strings.Repeat("x", maxFiles+1)}}, nil); err == nil {
		t.Error("more than a ConfigMap holds was taken")
	}
}

// A volume from the lab's folder becomes a copy of its files in the
// node's files (the folder is this machine's, not the pod's host's): a
// folder's files under the mount point, a file at it, executables with
// their mode, binary content as binary data; a host path outside the
// folder (allowed) stays a volume; a link inside the folder is refused.
func TestFolderCopies(t *testing.T) {
	dir := t.TempDir()
	for path, body := range map[string]string{"lab.yaml": "name: l\n", "conf/a.conf": "a=1\n", "conf/sub/b.conf": "b=2\n", "bin/run.sh": "#!/bin/sh\necho hi\n", "blob": "\xff\xfe\x00"} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	c := &planner.Container{Name: "l_r1", HostAllowed: true,
		Labels:  map[string]string{naming.LabelFile: filepath.Join(dir, "lab.yaml")},
		Files:   map[string]string{"/etc/frr/frr.conf": "hostname r1\n"},
		Volumes: []string{dir + "/conf:/etc/app", dir + "/bin/run.sh:/usr/local/bin/run.sh:ro", dir + "/blob:/blob", outside + ":/data"}}
	got, exec, err := folderCopies(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/etc/frr/frr.conf": "hostname r1\n", "/etc/app/a.conf": "a=1\n", "/etc/app/sub/b.conf": "b=2\n",
		"/usr/local/bin/run.sh": "#!/bin/sh\necho hi\n", "/blob": "\xff\xfe\x00"}
	if !maps.Equal(got.Files, want) {
		t.Errorf("files %q, want %q", got.Files, want)
	}
	if !slices.Equal(got.Volumes, []string{outside + ":/data"}) {
		t.Errorf("volumes %q, want only the host path outside the lab's folder", got.Volumes)
	}
	if len(c.Files) != 1 || len(c.Volumes) != 4 {
		t.Errorf("the lab's container changed: %v %v", c.Files, c.Volumes)
	}
	cm, _, err := filesMap("l", "r1", got, exec)
	if err != nil {
		t.Fatal(err)
	}
	modes, src := map[string]string{}, map[string]string{}
	for k := range cm.BinaryData {
		src[k] = "binary"
	}
	items := 0
	if _, vol, _ := filesMap("l", "r1", got, exec); vol != nil {
		for _, it := range vol.ConfigMap.Items {
			items++
			if it.Mode != nil {
				modes[it.Path] = fmt.Sprintf("%o", *it.Mode)
			}
			if src[it.Key] == "binary" && it.Path != "blob" {
				t.Errorf("%s stored as binary data", it.Path)
			}
		}
	}
	if items != 5 || !maps.Equal(modes, map[string]string{"usr/local/bin/run.sh": "755"}) || len(cm.BinaryData) != 1 {
		t.Errorf("%d items, modes %v, %d binary, want 5, run.sh 755, 1", items, modes, len(cm.BinaryData))
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "conf/link")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := folderCopies(c); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a link in the folder: %v", err)
	}
}
