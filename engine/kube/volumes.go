package kube

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netlab/netlab/engine"
	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/nodeinit"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/trust"
)

// folderCopies makes the node's volumes whose source is in the lab file's
// folder part of its files (filesMap): the folder is on this machine, not
// on the pod's host, so its files are copied into the node when it starts
// (writable there, not written back), as Kathará copies a lab's folders
// into its nodes. Sources are confined to the folder as on the other
// runtimes (trust.ConfineVolumes); a copy holds regular files and
// directories only. It returns the container with those volumes as
// files, and which of its files are executable.
func folderCopies(c *planner.Container) (*planner.Container, map[string]bool, error) {
	labFile := c.Labels[naming.LabelFile]
	if labFile == "" || len(c.Volumes) == 0 {
		return c, nil, nil
	}
	confined, err := trust.ConfineVolumes(labFile, c.Volumes, c.HostAllowed)
	if err != nil {
		return nil, nil, fmt.Errorf("node %s: %w", c.Name, err)
	}
	dir, err := trust.Resolve(trust.DirOfFile(labFile))
	if err != nil {
		return nil, nil, fmt.Errorf("node %s: the lab's folder: %w", c.Name, err)
	}
	out := *c
	out.Files, out.Volumes = maps.Clone(c.Files), nil
	if out.Files == nil {
		out.Files = map[string]string{}
	}
	exec := map[string]bool{}
	for i, v := range confined {
		parts := strings.Split(v, ":")
		rel, err := filepath.Rel(dir, parts[0])
		if len(parts) < 2 || !filepath.IsAbs(parts[0]) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			out.Volumes = append(out.Volumes, c.Volumes[i])
			continue
		}
		err = filepath.WalkDir(parts[0], func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s is not a regular file: a lab folder's copy in a pod holds files and folders only", path)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.Size() > maxFiles {
				return fmt.Errorf("%s is %d bytes, more than the %d a pod's files hold on the kubernetes runtime", path, info.Size(), maxFiles)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sub, _ := filepath.Rel(parts[0], path)
			to := filepath.Join(parts[1], sub)
			out.Files[to] = string(data)
			exec[to] = info.Mode()&0o111 != 0
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("node %s: volume %s: %w", c.Name, c.Volumes[i], err)
		}
	}
	return &out, exec, nil
}

// hostVolumes are the node's volumes as host path volumes of its pod (the
// lab folder's are copies: folderCopies), each source as
// trust.ConfineVolumes leaves it (up refused a path outside the lab's
// folder that nobody allowed). A host path is the path on the host the
// pod runs on: on a cluster whose hosts share this machine's files (the
// test cluster), the same folder. Named volumes are not on the kubernetes
// runtime yet.
func hostVolumes(c *planner.Container) ([]corev1.Volume, []corev1.VolumeMount, error) {
	confined, err := trust.ConfineVolumes(c.Labels[naming.LabelFile], c.Volumes, c.HostAllowed)
	if err != nil {
		return nil, nil, fmt.Errorf("node %s: %w", c.Name, err)
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for i, v := range confined {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "/") {
			return nil, nil, fmt.Errorf("node %s: volume %q: only host paths (/PATH:/IN/NODE[:ro]) are on the kubernetes runtime yet", c.Name, v)
		}
		name := fmt.Sprintf("vol%d", i)
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: parts[0]}}})
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: parts[1], ReadOnly: len(parts) > 2 && parts[2] == "ro"})
	}
	return vols, mounts, nil
}

// maxFiles is the most bytes of files a node may have on this runtime: a
// ConfigMap holds 1 MiB, names and the object's own fields included.
const maxFiles = 900 << 10

// filesMap is the ConfigMap of the files netlab writes into a node (FRR's
// and radvd's configuration), made before its pod and mounted in it at
// nodeinit.FilesDir as a tree under the node's root, which netlab's init
// copies into place before it runs the node's command: the files are
// ordinary files of the node, as on the other runtimes, and need nothing
// of the pod's host. Nil when the node has none.
func filesMap(lab, node string, c *planner.Container, exec map[string]bool) (*corev1.ConfigMap, *corev1.Volume, error) {
	if len(c.Files) == 0 {
		return nil, nil, nil
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: PodName(node) + "-files", Labels: map[string]string{naming.LabelLab: lab, naming.LabelNode: node}},
		Data:       map[string]string{},
	}
	src := &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}
	size := 0
	for i, p := range slices.Sorted(maps.Keys(c.Files)) {
		clean, err := engine.NodeFilePath(c.Name, p)
		if err != nil {
			return nil, nil, err
		}
		key := fmt.Sprintf("f%d", i) // a key has no "/": the item's path places it
		if utf8.ValidString(c.Files[p]) {
			cm.Data[key] = c.Files[p]
		} else {
			if cm.BinaryData == nil {
				cm.BinaryData = map[string][]byte{}
			}
			cm.BinaryData[key] = []byte(c.Files[p])
		}
		size += len(c.Files[p]) + len(p)
		item := corev1.KeyToPath{Key: key, Path: strings.TrimPrefix(clean, "/")}
		if exec[p] {
			mode := int32(0o755)
			item.Mode = &mode
		}
		src.Items = append(src.Items, item)
	}
	if size > maxFiles {
		return nil, nil, fmt.Errorf("node %s: its files (those netlab writes, and copies of the lab folder's volumes) are %d bytes, more than the %d a ConfigMap holds on the kubernetes runtime", c.Name, size, maxFiles)
	}
	return cm, &corev1.Volume{Name: "files", VolumeSource: corev1.VolumeSource{ConfigMap: src}}, nil
}

// ensureFiles makes the node's files' ConfigMap, or replaces the one a
// removed pod of the same node left.
func (r *Runtime) ensureFiles(ctx context.Context, cm *corev1.ConfigMap) error {
	cms := r.core.ConfigMaps(cm.Namespace)
	_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("create ConfigMap %s/%s of the node's files: %w", cm.Namespace, cm.Name, err)
	}
	return nil
}

// removeFiles deletes the files' ConfigMap of the pod; none is success.
func (r *Runtime) removeFiles(ctx context.Context, ns, pod string) error {
	err := r.core.ConfigMaps(ns).Delete(ctx, pod+"-files", metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete ConfigMap %s/%s-files: %w", ns, pod, err)
	}
	return nil
}

// withFiles mounts the files' volume in the pod, read-only, and has the
// init copy them into place.
func withFiles(pod *corev1.Pod, vol *corev1.Volume) {
	pod.Spec.Volumes = append(pod.Spec.Volumes, *vol)
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: nodeinit.FilesDir, ReadOnly: true})
	c.Command = engine.WithFiles(c.Command)
}
