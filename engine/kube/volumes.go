package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/naming"
	"github.com/netlab/netlab/planner"
	"github.com/netlab/netlab/trust"
)

// hostVolumes are the node's volumes as host path volumes of its pod, each
// source confined to the lab file's folder unless the host is allowed
// (trust.ConfineVolumes, as on the other runtimes; up refused a path outside
// it that nobody allowed). A host path is the
// path on the host the pod runs on: on a cluster whose hosts share this
// machine's files (the test cluster), the same folder. Named volumes and
// files are not on the kubernetes runtime yet.
func hostVolumes(c *planner.Container) ([]corev1.Volume, []corev1.VolumeMount, error) {
	if len(c.Files) > 0 {
		return nil, nil, fmt.Errorf("node %s: files are not on the kubernetes runtime yet", c.Name)
	}
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
