package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// stoppedFile, in a node's run directory (RunDir/LAB/NODE), says that a
// person stopped the node (netlab stop): the lab's watcher, whose repairs
// are ups of the lab, leaves it stopped; netlab start and a person's up
// start it again. Both runtimes.
const stoppedFile = "stopped-on-purpose"

// MarkStopped records that the node was stopped on purpose (on) or not.
func MarkStopped(lab, node string, on bool) error {
	file := filepath.Join(RunDir, lab, node, stoppedFile)
	if !on {
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("node %s: %w", node, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	return nil
}

// StoppedOnPurpose lists the lab's nodes that a person stopped.
func StoppedOnPurpose(lab string) []string {
	matches, _ := filepath.Glob(filepath.Join(RunDir, lab, "*", stoppedFile))
	var nodes []string
	for _, m := range matches {
		nodes = append(nodes, filepath.Base(filepath.Dir(m)))
	}
	return nodes
}
