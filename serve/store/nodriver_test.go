//go:build noserve

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Built without the database, Open says so and how to build the whole
// netlab, and makes nothing.
func TestOpenWithoutTheDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("Open: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data directory was made: %v", err)
	}
}
