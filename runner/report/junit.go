package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML for CI test reporters: one testsuite per target, one testcase
// per state. A failed state is a failed testcase. A state that would change
// (test mode) or changed is a passing testcase with a "status" property and
// its changes in system-out: pending changes are what --detailed-exitcode's
// exit 3 reports, not a test failure. States that did not run (failhard,
// interrupted) are one skipped testcase.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

func props(kv ...string) *junitProperties {
	p := &junitProperties{}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Property = append(p.Property, junitProperty{Name: kv[i], Value: kv[i+1]})
	}
	return p
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Failure    *junitMessage    `xml:"failure,omitempty"`
	Skipped    *junitMessage    `xml:"skipped,omitempty"`
	SystemOut  string           `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes runs as JUnit XML.
func WriteJUnit(w io.Writer, runs []*Run) error {
	doc := junitSuites{Name: "statectl"}
	var total float64
	for _, r := range runs {
		c := Count(r)
		ms := durationMS(c.Duration)
		total += ms
		s := junitSuite{
			Name:       r.Target,
			Tests:      c.Total,
			Failures:   c.Failed,
			Time:       seconds(ms),
			Properties: props("test", fmt.Sprint(r.Test)),
		}
		for _, res := range r.Results {
			tc := junitCase{
				Name:       res.ID,
				Classname:  r.Target + "." + res.Module + "." + res.Function,
				Time:       seconds(durationMS(res.Duration)),
				Properties: props("status", Status(res)),
			}
			out := strings.Join(plainChangeLines(res.Changes), "\n")
			if res.Comment != "" {
				out = strings.TrimLeft(out+"\n"+res.Comment, "\n")
			}
			if res.Failed() {
				tc.Failure = &junitMessage{Message: firstLine(res.Comment, 500), Type: "failed", Text: out}
			} else {
				tc.SystemOut = out
			}
			s.Cases = append(s.Cases, tc)
		}
		if r.NotRun > 0 {
			why := "stopped by failhard"
			if r.Interrupted {
				why = "interrupted"
			}
			s.Cases = append(s.Cases, junitCase{
				Name:      fmt.Sprintf("%d states not run", r.NotRun),
				Classname: r.Target,
				Time:      "0.000",
				Skipped:   &junitMessage{Message: why},
			})
			s.Tests++
			s.Skipped++
		}
		if r.Interrupted && r.NotRun == 0 {
			s.Properties.Property = append(s.Properties.Property, junitProperty{Name: "interrupted", Value: "true"})
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("failed to encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// plainChangeLines are changeLines without Markdown.
func plainChangeLines(changes map[string]any) []string {
	lines := changeLines(changes)
	for i, l := range lines {
		l = strings.ReplaceAll(l, "`", "")
		lines[i] = strings.ReplaceAll(l, `\|`, "|")
	}
	return lines
}
