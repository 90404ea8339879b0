package planner

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
)

// order sorts steps so that each comes after its dependencies, breaking ties
// by kind and then ID, and names a cycle if there is one. Steps are worked on
// by index, so that a plan of a million steps sorts in seconds.
func order(steps map[string]*Step) ([]*Step, error) {
	q := &stepQueue{}
	list := make([]*Step, 0, len(steps))
	index := make(map[string]int, len(steps))
	for id, s := range steps {
		index[id] = len(list)
		list = append(list, s)
	}
	indeg := make([]int, len(list))
	users := make([][]int32, len(list))
	for i, s := range list {
		sort.Strings(s.Deps)
		for _, d := range s.Deps {
			j, ok := index[d]
			if !ok {
				return nil, fmt.Errorf("step %s depends on %s, which the plan lacks", s.ID, d)
			}
			users[j] = append(users[j], int32(i))
		}
		indeg[i] = len(s.Deps)
	}
	for i, s := range list {
		if indeg[i] == 0 {
			heap.Push(q, queued{kindRank[s.Kind], s.ID, i})
		}
	}
	out := make([]*Step, 0, len(list))
	for q.Len() > 0 {
		i := heap.Pop(q).(queued).i
		out = append(out, list[i])
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(q, queued{kindRank[list[u].Kind], list[u].ID, int(u)})
			}
		}
	}
	if len(out) < len(list) {
		left := map[string]int{}
		for i, s := range list {
			left[s.ID] = indeg[i]
		}
		return nil, fmt.Errorf("dependency cycle: %s", strings.Join(findCycle(steps, left), " -> "))
	}
	return out, nil
}

// findCycle walks dependencies among the steps left unsorted (indeg > 0)
// until one repeats, and returns the cycle, first step repeated at the end.
func findCycle(steps map[string]*Step, indeg map[string]int) []string {
	var left []string
	for id, n := range indeg {
		if n > 0 {
			left = append(left, id)
		}
	}
	sort.Strings(left)
	seen := map[string]int{}
	var walk []string
	id := left[0]
	for {
		if at, ok := seen[id]; ok {
			return append(walk[at:], id)
		}
		seen[id] = len(walk)
		walk = append(walk, id)
		for _, d := range steps[id].Deps {
			if indeg[d] > 0 {
				id = d
				break
			}
		}
	}
}

// queued is a step waiting in the queue: its kind's rank, ID and index.
type queued struct {
	rank int
	id   string
	i    int
}

// stepQueue is a min-heap of steps by kind rank, then ID.
type stepQueue []queued

func (q stepQueue) Len() int { return len(q) }
func (q stepQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].id < q[j].id
}
func (q stepQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *stepQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *stepQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
