package spec

import "strings"

// Stage is one step of an exercise: its checks are those whose stage: is
// its name, and its setup puts a lab just brought up (or reset) into the
// state the stage starts from.
type Stage struct {
	Name  string   `yaml:"name" json:"name"`
	Title string   `yaml:"title,omitempty" json:"title,omitempty"`
	Setup []*Setup `yaml:"setup,omitempty" json:"setup,omitempty"`
}

// Setup is a command run in a node by sh -c, as netlab exec runs it.
type Setup struct {
	On  string `yaml:"on" json:"on"`
	Run string `yaml:"run" json:"run"`
}

// Upto returns the stages netlab reset --stage name runs the setup of:
// those before it and itself, in file order; nil if there is no such stage.
func (l *Lab) Upto(name string) []*Stage {
	for i, s := range l.Stages {
		if s.Name == name {
			return l.Stages[:i+1]
		}
	}
	return nil
}

// stages checks the stages: names given and unique, setup nodes known, and
// when there are stages, every check's stage one of them.
func (c *checker) stages() {
	seen := map[string]int{}
	var names []string // unique, in order
	for k, s := range c.lab.Stages {
		if s == nil {
			s = &Stage{}
			c.lab.Stages[k] = s
		}
		at := path("stages", k)
		if strings.TrimSpace(s.Name) == "" {
			c.ps.add(at, "a stage needs a name: (the value of its checks' stage:)")
		} else if first, dup := seen[s.Name]; dup {
			c.ps.add(path(at, "name"), "stages[%d] has the name %q already", first, s.Name)
		} else {
			seen[s.Name] = k
			names = append(names, s.Name)
		}
		for j, st := range s.Setup {
			if st == nil {
				continue
			}
			if c.lab.Nodes[st.On] == nil {
				c.ps.add(path(at, "setup", j, "on"), "unknown node %q (known: %s)", st.On, c.knownNodes())
			}
		}
	}
	if len(c.lab.Stages) == 0 {
		return
	}
	for _, ch := range c.lab.Checks {
		if ch.Stage == "" {
			continue
		}
		if _, ok := seen[ch.Stage]; !ok {
			c.ps.add(path("checks", ch.Index, "stage"), "no stage %q under stages: (stages: %s)", ch.Stage, strings.Join(names, ", "))
		}
	}
}
