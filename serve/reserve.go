package serve

import (
	"strconv"
	"sync"

	"github.com/netlab/netlab/serve/store"
)

// starts are the starts under way, by owner. A start is checked against
// its owner's limits and recorded here in one step, under the owner's
// lock: two starts at once cannot each see room for themselves, since
// the second counts the first before its lab shows in what runs.
type starts struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex       // one per owner, kept (a few bytes each)
	held  map[string]map[string]*start // owner -> lab name -> its starts
}

// start is a lab's starts under way: how many, and its nodes.
type start struct {
	n, nodes int
}

// ownerKey is whose limits a lab's start counts against: its student's
// (over all their labs), or, of a group's or a shared lab, its class's
// owner of that name.
func ownerKey(lb store.Lab) string {
	if lb.OwnerUser != 0 {
		return "user " + strconv.FormatInt(lb.OwnerUser, 10)
	}
	return "class " + strconv.FormatInt(lb.ClassID, 10) + " " + lb.Owner
}

// lock takes the owner's lock; the function returned lets go of it.
func (s *starts) lock(key string) func() {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	l := s.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[key] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// underWay gives the owner's labs being started, with their nodes.
func (s *starts) underWay(key string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for name, st := range s.held[key] {
		out[name] = st.nodes
	}
	return out
}

// add records a start of the owner's lab; the function returned, called
// once it ended, forgets it.
func (s *starts) add(key, lab string, nodes int) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = map[string]map[string]*start{}
	}
	if s.held[key] == nil {
		s.held[key] = map[string]*start{}
	}
	st := s.held[key][lab]
	if st == nil {
		st = &start{nodes: nodes}
		s.held[key][lab] = st
	}
	st.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if st.n--; st.n == 0 {
				delete(s.held[key], lab)
				if len(s.held[key]) == 0 {
					delete(s.held, key)
				}
			}
		})
	}
}
