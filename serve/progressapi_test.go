package serve

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/serve/store"
)

func TestProgressOverTime(t *testing.T) {
	f := newFixture(t)
	teach := f.teacher(t)
	a := f.login(t, "a", "password-a")
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	for run, passed := range [][]bool{{false, false, true, false}, {true, true, true, true}} {
		for i, ok := range passed {
			f.st.AddResult(ctx, store.Result{LabID: f.labA.ID, Run: int64(run), Index: i, Name: "check" + string(rune('0'+i)), Passed: ok,
				At: at.Add(time.Duration(run) * time.Minute)})
		}
	}
	for _, c := range []*client{a, teach} {
		code, body := c.do("GET", "/api/labs/"+f.labA.ID+"/progress", "")
		var p labProgress
		json.Unmarshal([]byte(body), &p)
		if code != 200 || p.Total != 4 || len(p.Points) != 2 || p.Points[0].Passed != 1 || p.Points[1].Passed != 4 {
			t.Errorf("progress of a's lab: %d %s", code, body)
		}
		code, body = c.do("GET", "/api/labs/"+f.labA.ID+"/progress.svg", "")
		if code != 200 || !strings.Contains(body, "1/4") || !strings.Contains(body, "4/4") {
			t.Errorf("progress picture of a's lab: %d %s", code, body)
		}
	}
	if code, body := teach.do("GET", "/api/labs/"+f.labB.ID+"/progress.svg", ""); code != 200 || !strings.Contains(body, "no checks run yet") {
		t.Errorf("progress picture of b's lab, never checked: %d %s", code, body)
	}
}
