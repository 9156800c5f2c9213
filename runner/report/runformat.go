package report

import (
	"fmt"
	"io"
)

// Run-only formats (apply, watch): a pillar or grains document has no
// states to summarise.
const (
	// JSONv1 is statectl's own versioned JSON document (SchemaVersion);
	// JSON stays Salt's highstate return for Salt tooling.
	JSONv1   Format = "json-v1"
	Markdown Format = "markdown"
	JUnit    Format = "junit"
)

// RunFormats lists the --out values of commands that report runs.
var RunFormats = []Format{Human, JSON, YAML, JSONv1, Markdown, JUnit}

// ParseRunFormat validates an --out value for a command that reports runs.
func ParseRunFormat(s string) (Format, error) {
	for _, f := range RunFormats {
		if Format(s) == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (known: human, json, yaml, json-v1, markdown, junit)", s)
}

// RunOptions add what the CI formats print beyond Options.
type RunOptions struct {
	Options
	// Version is statectl's version, recorded by json-v1.
	Version string
	// Detailed is --detailed-exitcode: json-v1 records each target's exit
	// code with it.
	Detailed bool
	// Source, if set, says where the trees came from (apply --git: the
	// repository, ref and commit); json-v1 records it as "source".
	Source map[string]string
}

// WriteRuns renders runs in any run format.
func WriteRuns(w io.Writer, f Format, runs []*Run, opts RunOptions) error {
	switch f {
	case JSONv1:
		return WriteData(w, JSON, RunsV1(runs, opts))
	case Markdown:
		return WriteMarkdown(w, runs)
	case JUnit:
		return WriteJUnit(w, runs)
	}
	return Write(w, f, runs, opts.Options)
}
