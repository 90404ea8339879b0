package checks

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"

	"github.com/netlab/netlab/table"
)

// Word is the result column's word for a result: pass, FAIL or ERROR (the
// probe could not be made).
func (r Result) Word() string {
	switch {
	case r.Passed:
		return "pass"
	case r.Error:
		return "ERROR"
	}
	return "FAIL"
}

// WriteTable writes the results as a table (check, result, detail, hint)
// followed by the summary line.
func WriteTable(w io.Writer, results []Result) error {
	t := table.New(w)
	t.Header("Check", "Result", "Detail", "Hint")
	for _, r := range results {
		t.Append(r.Name, r.Word(), r.Detail, r.Hint)
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summary(results))
	return err
}

// Report is the JSON form of a run, for graders.
type Report struct {
	Lab    string   `json:"lab"`
	Stage  string   `json:"stage,omitempty"`
	Passed int      `json:"passed"`
	Failed int      `json:"failed"`
	Checks []Result `json:"checks"`
}

// WriteJSON writes the results as one JSON object (Report).
func WriteJSON(w io.Writer, lab, stage string, results []Result) error {
	rep := Report{Lab: lab, Stage: stage, Checks: results}
	if rep.Checks == nil {
		rep.Checks = []Result{}
	}
	rep.Passed, rep.Failed = Count(results)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// JUnit XML, as CI systems read it: one test suite per lab, one test case
// per check; a failed check is a failure, a probe that could not be made
// an error.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as JUnit XML: a suite named after the lab,
// test cases named after the checks (class name: the lab, and the stage if
// the check has one).
func WriteJUnit(w io.Writer, lab string, results []Result) error {
	s := junitSuite{Name: lab, Tests: len(results)}
	total := 0.0
	for _, r := range results {
		cls := lab
		if r.Stage != "" {
			cls += ".stage-" + r.Stage
		}
		tc := junitCase{Name: r.Name, Classname: cls, Time: seconds(r.Seconds)}
		text := r.Detail
		if r.Hint != "" {
			text += "\nhint: " + r.Hint
		}
		switch {
		case r.Passed:
		case r.Error:
			s.Errors++
			tc.Error = &junitProblem{Message: r.Detail, Type: "error", Text: text}
		default:
			s.Failures++
			tc.Failure = &junitProblem{Message: r.Detail, Type: "fail", Text: text}
		}
		total += r.Seconds
		s.Cases = append(s.Cases, tc)
	}
	s.Time = seconds(total)
	doc := junitSuites{Name: "netlab check", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// WriteJUnitFile writes the results as JUnit XML to file (WriteJUnit).
func WriteJUnitFile(file, lab string, results []Result) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	if err := WriteJUnit(f, lab, results); err != nil {
		f.Close()
		return fmt.Errorf("write JUnit XML to %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write JUnit XML to %s: %w", file, err)
	}
	return nil
}
