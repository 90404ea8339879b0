package provider

import "testing"

func TestWatchArgsRoundTrip(t *testing.T) {
	lab, file, pid, err := WatchArgs(watchArgs("l1", "/labs/a b.yaml", "/run/netlab/l1/watch.pid"))
	if err != nil || lab != "l1" || file != "/labs/a b.yaml" || pid != "/run/netlab/l1/watch.pid" {
		t.Errorf("got %q %q %q %v", lab, file, pid, err)
	}
	if _, _, _, err := WatchArgs([]string{"--lab", "l1", "--bogus"}); err == nil {
		t.Error("an unknown flag was taken")
	}
}
